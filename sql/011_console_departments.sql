-- Need to know for console accounts: a manager is limited to departments (wards) exactly like an API
-- token (api_tokens.departments): they see and edit only people of these departments and their events.
ALTER TABLE console_users ADD COLUMN departments text[]
    CONSTRAINT console_users_departments_count CHECK (departments IS NULL OR cardinality(departments) BETWEEN 1 AND 16);
UPDATE console_users SET departments = ARRAY[department] WHERE department IS NOT NULL;
ALTER TABLE console_users DROP COLUMN department;
ALTER TABLE console_users ADD CONSTRAINT console_users_manager_departments
    CHECK (role <> 'manager' OR departments IS NOT NULL);
