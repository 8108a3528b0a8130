package patterns

import "testing"

func TestErrorMessage(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"blank lines", "\n  \n\t\n", ""},
		{"one line", "command not found: foo", "command not found: foo"},
		{"last non-empty line", "building...\nstep 2 failed\n\n", "step 2 failed"},
		{"traceback", `Traceback (most recent call last):
  File "/app/main.py", line 3, in <module>
    main()
  File "/app/main.py", line 2, in main
    x = {}["k"]
KeyError: 'k'
`, "KeyError: 'k'"},
		{"traceback then other output", `Traceback (most recent call last):
  File "x.py", line 1, in <module>
ValueError: invalid literal for int() with base 10: 'abc'
exit status 1`, "ValueError: invalid literal for int() with base 10: 'abc'"},
		{"chained exceptions", `Traceback (most recent call last):
  File "a.py", line 2, in <module>
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "a.py", line 4, in <module>
RuntimeError: lookup failed`, "RuntimeError: lookup failed"},
		{"dotted exception without message", `Traceback (most recent call last):
  File "t.py", line 9, in <module>
requests.exceptions.ConnectTimeout`, "requests.exceptions.ConnectTimeout"},
		{"exception class without suffix", `Traceback (most recent call last):
  File "m.py", line 1, in <module>
django.core.exceptions.ImproperlyConfigured: settings are not configured`, "django.core.exceptions.ImproperlyConfigured: settings are not configured"},
		{"multi-line message: its first line", `Traceback (most recent call last):
  File "m.py", line 1, in <module>
AssertionError: lists differ
first extra element 3`, "AssertionError: lists differ"},
		{"syntax error without traceback", `  File "x.py", line 1
    print(
         ^
SyntaxError: '(' was never closed`, "SyntaxError: '(' was never closed"},
		{"exception line before other lines", "ModuleNotFoundError: No module named 'numpy'\nsee the docs\n", "ModuleNotFoundError: No module named 'numpy'"},
		{"pytest E lines", "    def test_x():\n>       assert f() == 2\nE       AssertionError: assert 1 == 2\n\ntest_x.py:3: AssertionError", "AssertionError: assert 1 == 2"},
		{"keyboard interrupt", "Traceback (most recent call last):\n  File \"x\", line 1\nKeyboardInterrupt\n", "KeyboardInterrupt"},
		{"ansi colours", "\x1b[31mTypeError: bad operand\x1b[0m\n", "TypeError: bad operand"},
		{"crlf", "line one\r\nOSError: disk full\r\n", "OSError: disk full"},
		{"words ending in Error are not enough", "an Error occurred here\nplease retry", "please retry"},
		{"unicode", "traceback\nUnicodeDecodeError: 'utf-8' codec can't decode byte 0xff: ünïcode", "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff: ünïcode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ErrorMessage(c.in); got != c.want {
				t.Errorf("ErrorMessage(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
