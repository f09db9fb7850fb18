#!/usr/bin/env python3
"""The expected table of the ward-month acceptance test (tests/integration/test_ward_month.c), worked out
from the scenario with Python's own time zones and nothing of attendd: per person, the March 2026 totals
of a ward in Europe/Berlin. Prints tests/fixtures/ward-2026-03.csv.

Scenario (the test builds the same through the API):
- 30 staff W01..W30, department "Ward 3"; shifts E 06-14, L 14-22, N 22-06, AM 07-11, PM 17-21 (no breaks).
- person i (0-based) rotates E E L L N N - - - - anchored on 2026-03-01 minus i days.
- holidays 2026-03-19 and 2026-03-27; everyone works the holidays their rotation gives them.
- leave (approved): i=0 annual 03-10..11, i=5 annual 03-16..17, i=10 annual 03-20, i=15 annual 03-03..04,
  i=20 sick 03-24..25.
- split on-call days (overrides AM + PM): i=1 03-17, i=2 03-07, i=3 03-25.
- overrides: i=6 03-09 L, i=7 03-22 E.
- punches exactly at every planned start and end, except: i=8 in at 06:12 on 03-03 (late 12), i=9 no
  clock-out on 03-05, i=11 10:00-12:00 on rest day 03-08.
"""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Berlin")
SHIFTS = {"E": (6, 14), "L": (14, 22), "N": (22, 6), "AM": (7, 11), "PM": (17, 21)}
CYCLE = ["E", "E", "L", "L", "N", "N", None, None, None, None]
HOLIDAYS = {date(2026, 3, 19), date(2026, 3, 27)}
LEAVE = {0: ("annual", date(2026, 3, 10), date(2026, 3, 11)), 5: ("annual", date(2026, 3, 16), date(2026, 3, 17)),
         10: ("annual", date(2026, 3, 20), date(2026, 3, 20)), 15: ("annual", date(2026, 3, 3), date(2026, 3, 4)),
         20: ("sick", date(2026, 3, 24), date(2026, 3, 25))}
OVERRIDES = {(1, date(2026, 3, 17)): ["AM", "PM"], (2, date(2026, 3, 7)): ["AM", "PM"],
             (3, date(2026, 3, 25)): ["AM", "PM"], (6, date(2026, 3, 9)): ["L"], (7, date(2026, 3, 22)): ["E"]}


def plan(i, d):
    if (i, d) in OVERRIDES:
        return OVERRIDES[(i, d)]
    k = (d - (date(2026, 3, 1) - timedelta(days=i))).days % 10
    return [CYCLE[k]] if CYCLE[k] else []


def instants(d, code):
    s, e = SHIFTS[code]
    start = datetime(d.year, d.month, d.day, s, tzinfo=TZ)
    ed = d + timedelta(days=1) if e <= s else d
    end = datetime(ed.year, ed.month, ed.day, e, tzinfo=TZ)
    return start, end


def minutes(a, b):
    return int((b.astimezone(ZoneInfo("UTC")) - a.astimezone(ZoneInfo("UTC"))).total_seconds() // 60)


def night(a, b):
    """Minutes of [a, b) inside 22:00-06:00 local."""
    total = 0
    d = a.date() - timedelta(days=1)
    while d <= b.date():
        ws = datetime(d.year, d.month, d.day, 22, tzinfo=TZ)
        n = d + timedelta(days=1)
        we = datetime(n.year, n.month, n.day, 6, tzinfo=TZ)
        lo, hi = max(a, ws), min(b, we)
        if hi > lo:
            total += minutes(lo, hi)
        d += timedelta(days=1)
    return total


print("employee_no,scheduled,worked,ot_daily,ot_rest_day,night,holiday,leave_annual,leave_sick,exceptions,absent_days")
for i in range(30):
    t = dict(scheduled=0, worked=0, ot_daily=0, ot_rest_day=0, night=0, holiday=0, annual=0, sick=0, exc=0, absent=0)
    for dm in range(1, 32):
        d = date(2026, 3, dm)
        codes = plan(i, d)
        sched = sum(minutes(*instants(d, c)) for c in codes)
        t["scheduled"] += sched
        lv = LEAVE.get(i)
        if lv and lv[1] <= d <= lv[2]:
            t[lv[0]] += sched  # whole-day leave credits the day's scheduled minutes
            continue
        if i == 11 and d == date(2026, 3, 8):  # rest-day presence 10:00-12:00
            t["worked"] += 120
            t["ot_rest_day"] += 120
            t["exc"] += 2  # unscheduled_presence, overtime_unapproved
            continue
        worked = 0
        for c in codes:
            a, b = instants(d, c)
            if i == 8 and d == date(2026, 3, 3):
                a = a + timedelta(minutes=12)
                t["exc"] += 1  # late
            if i == 9 and d == date(2026, 3, 5):
                t["exc"] += 1  # missing_out: nothing paid
                continue
            worked += minutes(a, b)
            t["night"] += night(a, b)
        t["worked"] += worked
        if d in HOLIDAYS:
            t["holiday"] += worked
    print("W%02d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d" % (i + 1, t["scheduled"], t["worked"], t["ot_daily"], t["ot_rest_day"],
                                                 t["night"], t["holiday"], t["annual"], t["sick"], t["exc"], t["absent"]))
