-- bench/http.sh's data set: 2,000 people in 8 departments, one entrance camera per department, a day
-- shift scheduled for every department, and 1,000,000 camera events (an in and an out per person per
-- day for the 250 days before today). psql -v events_per_person=500 (even; default 500).
\set ON_ERROR_STOP on
\if :{?events_per_person}
\else
\set events_per_person 500
\endif
BEGIN;
INSERT INTO cameras (name, url, enabled)
SELECT 'entrance ' || d, 'rtsp://127.0.0.1:9/' || d, false
FROM unnest(ARRAY['ICU', 'ER', 'Surgery', 'Cardiology', 'Pediatrics', 'Oncology', 'Radiology', 'Lab']) d;
INSERT INTO people (employee_no, name, department)
SELECT 'N-' || lpad(g::text, 5, '0'), 'Nurse ' || g || ', Test',
       (ARRAY['ICU', 'ER', 'Surgery', 'Cardiology', 'Pediatrics', 'Oncology', 'Radiology', 'Lab'])[1 + g % 8]
FROM generate_series(1, 2000) g;
INSERT INTO shifts (name, start_time, end_time, grace_late_min, grace_early_min, break_min)
VALUES ('Day', '07:00', '15:30', 5, 5, 30);
INSERT INTO schedules (shift_id, department, valid_from)
SELECT s.id, d, current_date - 400 FROM shifts s,
       unnest(ARRAY['ICU', 'ER', 'Surgery', 'Cardiology', 'Pediatrics', 'Oncology', 'Radiology', 'Lab']) d;

-- events.seq comes from the BEFORE INSERT trigger (sql/004: an advisory lock and nextval per row). It
-- costs about 10% of the insert here (measured: 100k rows 1.5 s with it, 1.36 s without), so it stays
-- on; rows go in oldest first, so seq follows ts as it does for live events.
INSERT INTO events (id, person_id, camera_id, kind, ts, similarity, liveness, source)
SELECT gen_random_uuid(), person_id, camera_id, kind, ts, similarity, liveness, 'camera'
FROM (SELECT p.id AS person_id, c.id AS camera_id, k.kind::event_kind AS kind,
             (current_date - i) + k.t + random() * interval '20 minutes' AS ts,
             (0.5 + random() * 0.45)::real AS similarity, (0.9 + random() * 0.09)::real AS liveness
      FROM people p
      JOIN cameras c ON c.name = 'entrance ' || p.department
      CROSS JOIN generate_series(1, :events_per_person / 2) i
      CROSS JOIN (VALUES ('in', interval '6 hours 50 minutes'), ('out', interval '15 hours 25 minutes')) k(kind, t)
      ORDER BY 4) o;
COMMIT;
VACUUM ANALYZE;
