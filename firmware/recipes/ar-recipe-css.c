/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-recipe-css.c: a sanity check of CSS selectors in recipes.
 *
 * Chromium parses the selectors for real (document.querySelector; a test runs
 * every shipped selector through it). This check only refuses what can never
 * be a selector or what a recipe author copied from a bot framework by
 * mistake: empty or over-long strings, control characters, unbalanced
 * brackets, parentheses or quotes, braces, and Playwright/XPath syntax
 * (":has-text()", "text=", "//") that CSS does not have.
 */
#include "ar-recipe-priv.h"

#include <string.h>

const char *
ar_recipe_css_check(const char *s)
{
  gsize len = strlen(s);
  if (len == 0)
    return "empty selector";
  if (len > AR_RECIPE_MAX_SELECTOR_LEN)
    return "selector too long (at most 512 bytes)";
  gboolean blank = TRUE;
  for (const char *p = s; *p; p++) {
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return "control character in selector";
    if (!g_ascii_isspace(*p))
      blank = FALSE;
  }
  if (blank)
    return "empty selector";
  if (g_str_has_prefix(s, "//") || g_str_has_prefix(s, "xpath="))
    return "XPath is not CSS";
  if (g_str_has_prefix(s, "text="))
    return "\"text=\" is Playwright syntax, not CSS (use \"text\")";
  if (strstr(s, ":has-text(") != NULL || strstr(s, ":text(") != NULL ||
      strstr(s, ":text-matches(") != NULL || strstr(s, ":contains(") != NULL ||
      strstr(s, ">>") != NULL)
    return "Playwright/jQuery syntax, not CSS (use \"text\" for text matches)";

  /* Brackets, parentheses and quotes, outside and inside strings. */
  char stack[64];
  guint depth = 0;
  char quote = 0;
  for (const char *p = s; *p; p++) {
    char c = *p;
    if (quote != 0) {
      if (c == '\\') {
        if (p[1] == '\0')
          return "backslash at the end of the selector";
        p++;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    switch (c) {
    case '\\':
      if (p[1] == '\0')
        return "backslash at the end of the selector";
      p++;
      break;
    case '"':
    case '\'':
      quote = c;
      break;
    case '[':
    case '(':
      if (depth == G_N_ELEMENTS(stack))
        return "brackets nested too deep";
      stack[depth++] = c;
      break;
    case ']':
      if (depth == 0 || stack[depth - 1] != '[')
        return "unbalanced ']'";
      depth--;
      break;
    case ')':
      if (depth == 0 || stack[depth - 1] != '(')
        return "unbalanced ')'";
      depth--;
      break;
    case '{':
    case '}':
      return "braces are not part of a selector";
    case ';':
      return "';' outside a string is not part of a selector";
    default:
      break;
    }
  }
  if (quote != 0)
    return "unterminated string";
  if (depth != 0)
    return stack[depth - 1] == '[' ? "unclosed '['" : "unclosed '('";
  char last = s[len - 1];
  if (last == ',' || last == '>' || last == '+' || last == '~')
    return "selector ends with a combinator or ','";
  if (s[0] == ',')
    return "selector starts with ','";
  return NULL;
}
