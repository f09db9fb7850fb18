/* Payroll export columns (src/attendance/payroll.c): the pay-code list parsed from configuration text,
 * bad entries named, and each column's value from a person's totals. */
#include <check.h>
#include <string.h>

#include "attendd/payroll.h"
#include "support.h"

START_TEST(columns_table)
{
    struct payroll_column c[PAYROLL_MAX_COLUMNS];
    size_t n;
    char why[160];
    ck_assert_int_eq(payroll_columns_parse(payroll_default_columns, c, PAYROLL_MAX_COLUMNS, &n, why, sizeof why),
                     ATT_OK);
    ck_assert_uint_eq(n, 21);
    ck_assert_str_eq(c[0].header, "person");
    ck_assert_int_eq(c[15].field, PF_LEAVE);
    ck_assert_str_eq(c[15].leave_code, "annual");
    ck_assert_int_eq(payroll_columns_parse("PERSNR=employee_no, REG=regular,OT125=ot_daily ,N.25=night,SICK=leave:sick",
                                           c, PAYROLL_MAX_COLUMNS, &n, why, sizeof why),
                     ATT_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(c[0].header, "PERSNR");
    ck_assert(payroll_identity(&c[0]));
    ck_assert_str_eq(c[2].header, "OT125");
    ck_assert_int_eq(c[2].field, PF_OT_DAILY);
    ck_assert_str_eq(c[3].header, "N.25");
    ck_assert_str_eq(c[4].leave_code, "sick");

    struct pay_totals t = {0};
    t.regular_min = 9000;
    t.ot_daily_min = 45;
    t.night_min = 960;
    t.leave_min[1] = 480;
    ck_assert_int_eq(payroll_value(&c[1], &t, -1), 9000);
    ck_assert_int_eq(payroll_value(&c[2], &t, -1), 45);
    ck_assert_int_eq(payroll_value(&c[3], &t, -1), 960);
    ck_assert_int_eq(payroll_value(&c[4], &t, 1), 480);
    ck_assert_int_eq(payroll_value(&c[4], &t, -1), 0);

    static const char *const bad[] = {"",
                                      "regular,,night",
                                      "REG=regulars",
                                      "=regular",
                                      "R G=regular",
                                      "X=leave:",
                                      "X=leave:Annual",
                                      "night,worked,bogus",
                                      "A234567890123456789012345678901234567890123456789012345678901234=worked"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(payroll_columns_parse(bad[i], c, PAYROLL_MAX_COLUMNS, &n, why, sizeof why) == ATT_E_INVALID,
                      "'%s' accepted", bad[i]);
        ck_assert_uint_gt(strlen(why), 0);
    }
    ck_assert_int_eq(payroll_columns_parse("worked,worked,worked", c, 2, &n, why, sizeof why), ATT_E_INVALID);
}
END_TEST

Suite *payroll_suite(void)
{
    Suite *s = suite_create("payroll");
    ts_tcase(s, "columns", 30, NULL, NULL, columns_table, NULL);
    return s;
}
