-- A hospital month for bench/pay.sh: 2,000 people in 8 wards, four shifts (E 06-14, L 14-22, N 22-06,
-- D 08-16; grace 5, break 30); four fifths on their own 10-day rotation E E L L N N - - - - (offset per
-- person), the rest on their ward's Monday-to-Friday D pattern; 2 holidays, a week of annual leave for
-- one person in 50, a day given off by override for one in 100; an in and an out punch for every planned
-- shift with a few minutes' jitter (setseed: the same data every run). March 2026, Europe/Berlin (DST).
SELECT setseed(0.42);
INSERT INTO shifts (name, start_time, end_time, grace_late_min, grace_early_min, break_min) VALUES
    ('E', '06:00', '14:00', 5, 5, 30), ('L', '14:00', '22:00', 5, 5, 30), ('N', '22:00', '06:00', 5, 5, 30),
    ('D', '08:00', '16:00', 5, 5, 30);
CREATE TEMP TABLE bp AS SELECT i, gen_random_uuid() AS id, 'Ward ' || (i % 8 + 1) AS dept FROM generate_series(1, 2000) i;
INSERT INTO people (id, employee_no, name, department)
    SELECT id, 'P-' || lpad(i::text, 5, '0'), 'Person, ' || i, dept FROM bp;
INSERT INTO roster_patterns (department, kind, valid_from, cycle)
    SELECT 'Ward ' || w, 'weekly', date '2026-01-01',
           jsonb_build_array(jsonb_build_array(d.id), jsonb_build_array(d.id), jsonb_build_array(d.id),
                             jsonb_build_array(d.id), jsonb_build_array(d.id), '[]'::jsonb, '[]'::jsonb)
    FROM generate_series(1, 8) w, shifts d WHERE d.name = 'D';
INSERT INTO roster_patterns (person_id, kind, anchor_day, valid_from, cycle)
    SELECT bp.id, 'rotation', date '2026-03-01' - bp.i % 10, date '2026-01-01',
           jsonb_build_array(jsonb_build_array(e.id), jsonb_build_array(e.id), jsonb_build_array(l.id),
                             jsonb_build_array(l.id), jsonb_build_array(n.id), jsonb_build_array(n.id),
                             '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb)
    FROM bp, shifts e, shifts l, shifts n WHERE e.name = 'E' AND l.name = 'L' AND n.name = 'N' AND bp.i % 5 <> 0;
INSERT INTO holidays (day, name) VALUES ('2026-03-19', 'St Joseph'), ('2026-03-31', 'Site day');
INSERT INTO leave (person_id, type, from_day, to_day, state)
    SELECT id, 'annual', '2026-03-09', '2026-03-13', 'approved' FROM bp WHERE i % 50 = 0;
INSERT INTO roster_overrides (person_id, day, shift_ids, reason)
    SELECT id, '2026-03-17', '{}', 'swap' FROM bp WHERE i % 100 = 0;

CREATE TEMP TABLE plan AS
    SELECT bp.id, d::date AS day, s.start_time, s.end_time
    FROM bp, generate_series(date '2026-03-01', date '2026-03-31', interval '1 day') d, shifts s
    WHERE (bp.i % 5 <> 0
           AND s.name = (ARRAY['E', 'E', 'L', 'L', 'N', 'N', 'x', 'x', 'x', 'x'])[(d::date - (date '2026-03-01' - bp.i % 10)) % 10 + 1])
       OR (bp.i % 5 = 0 AND s.name = 'D' AND extract(isodow FROM d) <= 5);
DELETE FROM plan p USING bp WHERE p.id = bp.id AND bp.i % 50 = 0 AND p.day BETWEEN '2026-03-09' AND '2026-03-13';
DELETE FROM plan p USING bp WHERE p.id = bp.id AND bp.i % 100 = 0 AND p.day = '2026-03-17';
INSERT INTO events (id, person_id, kind, ts, source)
    SELECT gen_random_uuid(), id, 'in'::event_kind,
           (day + start_time + (floor(random() * 15) - 5) * interval '1 minute') AT TIME ZONE 'Europe/Berlin', 'camera'::event_source
    FROM plan
    UNION ALL
    SELECT gen_random_uuid(), id, 'out'::event_kind,
           (day + end_time + CASE WHEN end_time <= start_time THEN interval '1 day' ELSE interval '0' END
            + (floor(random() * 20) - 5) * interval '1 minute') AT TIME ZONE 'Europe/Berlin', 'camera'::event_source
    FROM plan;
ANALYZE;
