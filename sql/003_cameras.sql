-- Cameras: bound the columns by what the daemon holds (struct camera_def: name up to 128
-- bytes, url up to 1024 bytes) and analysis_fps by what capture accepts (0.5..30), so a row written
-- by any path can always be loaded and started. Run by src/store/migrate.c in one transaction.

ALTER TABLE cameras ADD CONSTRAINT cameras_name_bytes CHECK (octet_length(name) <= 128);
ALTER TABLE cameras ADD CONSTRAINT cameras_url_bytes CHECK (octet_length(url) <= 1024);
ALTER TABLE cameras DROP CONSTRAINT cameras_analysis_fps_range;
ALTER TABLE cameras ADD CONSTRAINT cameras_analysis_fps_range CHECK (analysis_fps >= 0.5 AND analysis_fps <= 30);
