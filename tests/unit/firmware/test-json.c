/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strict RFC 8259 check (firmware/core/ar-json.c): what it passes,
 * json-glib reads as written; what json-glib would read differently (0x32,
 * 0050, -18446744073709551566 wrapped to 50, a string cut at \u0000) and
 * everything else outside RFC 8259 is refused, with the byte and the reason. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "ar-json.h"

static gboolean
check(const char *text, GError **error)
{
  return ar_json_check(text, strlen(text), 16, error);
}

static void
test_valid(void)
{
  static const char *const good[] = {
      "{}",
      "[]",
      " {\"a\" : [1, -2, 3.5, -0, 0.0, 1e3, 1E+3, 2.5e-3, true, false, null]}\r\n\t",
      "{\"volume\":50}",
      "{\"n\":9223372036854775807,\"m\":-9223372036854775808}",
      "{\"s\":\"tab\\there \\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r \\u00e9 \\u20AC \\ud83d\\ude00\"}",
      "{\"utf8\":\"Salle \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
      "{\"\":\"\"}",
      "\"a string alone\"",
      "42",
      "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]", /* 16 deep */
      "{\"f\":1.7976931348623157e308,\"g\":4.9e-324,\"h\":123456789012345678901234567890.5}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(GError) error = NULL;
    if (!check(good[i], &error))
      g_error("refused %s: %s", good[i], error->message);
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    if (!json_parser_load_from_data(p, good[i], -1, NULL))
      g_error("json-glib cannot read what the check passed: %s", good[i]);
  }
}

typedef struct {
  const char *text;
  ArJsonError code;
  const char *says; /* part of the message */
} Bad;

static void
expect_refused(const Bad *bad, gsize n)
{
  for (gsize i = 0; i < n; i++) {
    g_autoptr(GError) error = NULL;
    if (check(bad[i].text, &error))
      g_error("accepted %s", bad[i].text);
    if (!g_error_matches(error, AR_JSON_ERROR, bad[i].code) || !strstr(error->message, bad[i].says))
      g_error("%s: got '%s' (code %d), wanted code %d saying '%s'", bad[i].text, error->message,
              error->code, bad[i].code, bad[i].says);
  }
}

static void
test_numbers(void)
{
  static const Bad bad[] = {
      {"{\"level\":0x32}", AR_JSON_ERROR_NUMBER, "byte 10: a hexadecimal number"},
      {"{\"level\":0X32}", AR_JSON_ERROR_NUMBER, "hexadecimal"},
      {"{\"level\":0050}", AR_JSON_ERROR_NUMBER, "leading zero"},
      {"{\"level\":-00}", AR_JSON_ERROR_NUMBER, "leading zero"},
      {"{\"level\":-18446744073709551566}", AR_JSON_ERROR_NUMBER, "byte 9: an integer out of"},
      {"{\"level\":18446744073709551666}", AR_JSON_ERROR_NUMBER, "out of the 64-bit range"},
      {"{\"level\":9223372036854775808}", AR_JSON_ERROR_NUMBER, "out of the 64-bit range"},
      {"{\"level\":-9223372036854775809}", AR_JSON_ERROR_NUMBER, "out of the 64-bit range"},
      {"{\"level\":100000000000000000000}", AR_JSON_ERROR_NUMBER, "out of the 64-bit range"},
      {"{\"level\":+50}", AR_JSON_ERROR_NUMBER, "not a JSON number"},
      {"{\"level\":.5}", AR_JSON_ERROR_NUMBER, "not a JSON number"},
      {"{\"level\":50.}", AR_JSON_ERROR_NUMBER, "'.' without digits"},
      {"{\"level\":5e}", AR_JSON_ERROR_NUMBER, "exponent without digits"},
      {"{\"level\":5e+}", AR_JSON_ERROR_NUMBER, "exponent without digits"},
      {"{\"level\":-}", AR_JSON_ERROR_NUMBER, "'-' without digits"},
      {"{\"level\":--5}", AR_JSON_ERROR_NUMBER, "'-' without digits"},
      {"{\"level\":1e999}", AR_JSON_ERROR_NUMBER, "out of range"},
      {"{\"level\":-1e400}", AR_JSON_ERROR_NUMBER, "out of range"},
      {"{\"level\":NaN}", AR_JSON_ERROR_NUMBER, "not a JSON number"},
      {"{\"level\":Infinity}", AR_JSON_ERROR_NUMBER, "not a JSON number"},
      {"{\"level\":50abc}", AR_JSON_ERROR_NUMBER, "'a' in a number"},
      {"{\"level\":5_0}", AR_JSON_ERROR_NUMBER, "'_' in a number"},
      {"{\"level\":1.2.3}", AR_JSON_ERROR_NUMBER, "'.' in a number"},
  };
  expect_refused(bad, G_N_ELEMENTS(bad));
  /* json-glib really reads these as something else: the reason for the check. */
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (json_parser_load_from_data(p, "{\"level\":-18446744073709551566}", -1, NULL)) {
    JsonNode *n = json_object_get_member(json_node_get_object(json_parser_get_root(p)), "level");
    g_test_message("json-glib reads -18446744073709551566 as %" G_GINT64_FORMAT,
                   json_node_get_int(n));
  }
  /* A number over 128 characters is refused, a long one under it is not. */
  g_autofree char *digits = g_strnfill(200, '1');
  g_autofree char *longnum = g_strdup_printf("[0.%s]", digits);
  g_autoptr(GError) error = NULL;
  g_assert_false(check(longnum, &error));
  g_assert_error(error, AR_JSON_ERROR, AR_JSON_ERROR_NUMBER);
}

static void
test_strings(void)
{
  static const Bad bad[] = {
      {"{\"room\":{\"name\":\"Evil\\u0000 Room\"}}", AR_JSON_ERROR_STRING, "byte 21: \\u0000"},
      {"{\"a\\u0000\":1}", AR_JSON_ERROR_STRING, "\\u0000"},
      {"[\"\\ud800\"]", AR_JSON_ERROR_STRING, "lone high surrogate"},
      {"[\"\\ud800\\u0041\"]", AR_JSON_ERROR_STRING, "lone high surrogate"},
      {"[\"\\udc00\"]", AR_JSON_ERROR_STRING, "lone low surrogate"},
      {"[\"\\u12\"]", AR_JSON_ERROR_STRING, "four hex digits"},
      {"[\"\\u12G4\"]", AR_JSON_ERROR_STRING, "four hex digits"},
      {"[\"\\x41\"]", AR_JSON_ERROR_STRING, "invalid escape \\x"},
      {"[\"\\'\"]", AR_JSON_ERROR_STRING, "invalid escape"},
      {"[\"\\U0041\"]", AR_JSON_ERROR_STRING, "invalid escape"},
      {"[\"tab\there\"]", AR_JSON_ERROR_STRING, "control character 0x09"},
      {"[\"line\nbreak\"]", AR_JSON_ERROR_STRING, "control character 0x0a"},
      {"[\"\xff\"]", AR_JSON_ERROR_ENCODING, "byte 2: not UTF-8"},
      {"[\"\xc0\xaf\"]", AR_JSON_ERROR_ENCODING, "not UTF-8"},         /* overlong '/' */
      {"[\"\xed\xa0\x80\"]", AR_JSON_ERROR_ENCODING, "not UTF-8"},     /* a surrogate */
      {"[\"\xf4\x90\x80\x80\"]", AR_JSON_ERROR_ENCODING, "not UTF-8"}, /* > U+10FFFF */
      {"[\"open", AR_JSON_ERROR_SYNTAX, "without its closing quote"},
      {"['single']", AR_JSON_ERROR_SYNTAX, "'''"},
  };
  expect_refused(bad, G_N_ELEMENTS(bad));
  /* A raw NUL byte, which strlen() would not see. */
  static const char nul[] = "{\"a\":\"b\0c\"}";
  g_autoptr(GError) error = NULL;
  g_assert_false(ar_json_check(nul, sizeof nul - 1, 16, &error));
  g_assert_error(error, AR_JSON_ERROR, AR_JSON_ERROR_ENCODING);
  g_assert_nonnull(strstr(error->message, "a NUL byte"));
  /* json-glib really cuts the name at \u0000: the reason for the check. */
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (json_parser_load_from_data(p, "{\"name\":\"Evil\\u0000 Room\"}", -1, NULL))
    g_test_message(
        "json-glib reads \"Evil\\u0000 Room\" as '%s'",
        json_object_get_string_member(json_node_get_object(json_parser_get_root(p)), "name"));
}

static void
test_syntax(void)
{
  static const Bad bad[] = {
      {"", AR_JSON_ERROR_SYNTAX, "no JSON value"},
      {"  \n", AR_JSON_ERROR_SYNTAX, "no JSON value"},
      {"{", AR_JSON_ERROR_SYNTAX, "the text ends"},
      {"{\"a\":1,}", AR_JSON_ERROR_SYNTAX, "a trailing comma"},
      {"[1,]", AR_JSON_ERROR_SYNTAX, "a trailing comma"},
      {"[1 2]", AR_JSON_ERROR_SYNTAX, "',' or ']'"},
      {"{\"a\" 1}", AR_JSON_ERROR_SYNTAX, "':'"},
      {"{a:1}", AR_JSON_ERROR_SYNTAX, "a member name"},
      {"{\"a\":1} {}", AR_JSON_ERROR_SYNTAX, "more after the JSON value"},
      {"{\"a\":1}x", AR_JSON_ERROR_SYNTAX, "more after"},
      {"{\"a\":tru}", AR_JSON_ERROR_SYNTAX, "a value"},
      {"{\"a\":truex}", AR_JSON_ERROR_SYNTAX, "after a literal"},
      {"{\"a\":True}", AR_JSON_ERROR_SYNTAX, "a value"},
      {"{\"a\":undefined}", AR_JSON_ERROR_SYNTAX, "a value"},
      {"/* c */ {}", AR_JSON_ERROR_SYNTAX, "'/'"},
      {"{\"a\":1 // c\n}", AR_JSON_ERROR_SYNTAX, "'/'"},
      {"\xef\xbb\xbf{}", AR_JSON_ERROR_SYNTAX, "byte 0: byte 0xef"}, /* a BOM */
      {"{\"a\":\v1}", AR_JSON_ERROR_SYNTAX, "byte 0x0b"},
  };
  expect_refused(bad, G_N_ELEMENTS(bad));
}

static void
test_depth(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_json_check("[[[]]]", 6, 3, &error));
  g_assert_false(ar_json_check("[[[[]]]]", 8, 3, &error));
  g_assert_error(error, AR_JSON_ERROR, AR_JSON_ERROR_DEPTH);
  g_assert_nonnull(strstr(error->message, "nests deeper than 3 levels"));
  g_clear_error(&error);
  /* Deep and unterminated: refused at the limit, not at the end. */
  g_autofree char *deep = g_strnfill(1000000, '[');
  g_assert_false(ar_json_check(deep, strlen(deep), 16, &error));
  g_assert_error(error, AR_JSON_ERROR, AR_JSON_ERROR_DEPTH);
  g_assert_nonnull(strstr(error->message, "byte 16:"));
  g_clear_error(&error);
  /* Brackets inside strings do not count. */
  g_assert_true(ar_json_check("[\"[[[[[[\"]", 10, 1, &error));
  g_assert_no_error(error);
  /* The cap holds whatever is asked. */
  g_assert_false(ar_json_check(deep, strlen(deep), G_MAXUINT, &error));
  g_assert_error(error, AR_JSON_ERROR, AR_JSON_ERROR_DEPTH);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/json/check/valid", test_valid);
  g_test_add_func("/json/check/numbers", test_numbers);
  g_test_add_func("/json/check/strings", test_strings);
  g_test_add_func("/json/check/syntax", test_syntax);
  g_test_add_func("/json/check/depth", test_depth);
  return g_test_run();
}
