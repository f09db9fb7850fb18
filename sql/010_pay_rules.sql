-- The site's pay rule set the pay engine applies to every shift: the night-premium window and the
-- overtime tiers' floors (daily, weekly) and the minimum rest between shifts. One row, edited through
-- PUT /api/v1/pay/rules; a closed pay period keeps the totals made with the rules of its close.
-- Run by src/store/migrate.c in one transaction.

CREATE TABLE pay_rules (
    id                  boolean     PRIMARY KEY DEFAULT true CONSTRAINT pay_rules_one CHECK (id),
    night_start         time        NOT NULL DEFAULT '22:00', -- night window, local; start = end: none
    night_end           time        NOT NULL DEFAULT '06:00', -- end <= start: the window runs over midnight
    daily_ot_after_min  integer     NOT NULL DEFAULT 0  -- 0: a day's overtime starts beyond its scheduled net
        CONSTRAINT pay_rules_daily_range CHECK (daily_ot_after_min BETWEEN 0 AND 1440),
    weekly_ot_after_min integer     NOT NULL DEFAULT 0  -- 0: no weekly tier
        CONSTRAINT pay_rules_weekly_range CHECK (weekly_ot_after_min BETWEEN 0 AND 10080),
    min_rest_min        integer     NOT NULL DEFAULT 660 -- 0: no short_rest check
        CONSTRAINT pay_rules_rest_range CHECK (min_rest_min BETWEEN 0 AND 1440),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

INSERT INTO pay_rules DEFAULT VALUES;
