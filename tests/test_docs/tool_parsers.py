"""Run tools' ``--help`` and check argument lists with their own parsers.

``python tests/test_docs/tool_parsers.py < request.json`` (from the
repository root, clsa_mm importable), where the request is
``{"tools": [path, ...], "checks": [[path, args, forwarded], ...]}``.
Each tool runs as ``__main__`` with ``--help`` in this one process (the
imports are shared); the ``argparse`` parser that prints the help is kept
and parses each argument list of ``checks``: ``@USER@`` stands for a value
the user fills in (the first choice of an option with choices, else ``1``),
and ``forwarded`` lists get a value for each required positional first.
The last line of stdout is the reply, ``{"help": {path: {"exit",
"output", "error"}}, "checks": [error message or null, ...]}``.
"""
import argparse
import contextlib
import io
import json
import os
import runpy
import sys
import traceback

USER = '@USER@'


def run_help(path):
    """Run ``path --help``; returns its parser (or None) and its result."""
    captured = []
    print_help = argparse.ArgumentParser.print_help

    def capture(self, file=None):
        captured.append(self)
        print_help(self, file)

    argparse.ArgumentParser.print_help = capture
    out, code, error = io.StringIO(), None, None
    argv, path_entries = sys.argv, list(sys.path)
    sys.argv = [path, '--help']
    # As `python PATH` has it: the tool imports the modules next to it.
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            runpy.run_path(path, run_name='__main__')
        error = 'ran to the end instead of printing its help'
    except SystemExit as e:
        code = e.code
    except BaseException:
        error = traceback.format_exc(limit=-3)
    finally:
        argparse.ArgumentParser.print_help = print_help
        sys.argv, sys.path[:] = argv, path_entries
    parser = captured[-1] if captured else None
    return parser, dict(exit=code, output=out.getvalue(), error=error)


def fill(parser, args, forwarded):
    """``args`` with user values replaced by values the parser takes."""
    filled, action = [], None
    for arg in args:
        if arg.startswith('-'):
            action = parser._option_string_actions.get(arg.split('=')[0])
            filled.append(arg)
        elif arg == USER:
            choices = getattr(action, 'choices', None)
            filled.append(str(list(choices)[0]) if choices else '1')
        else:
            filled.append(arg)
    if forwarded:
        required = [a for a in parser._actions
                    if not a.option_strings and a.nargs in (None, '+')]
        filled = ['1'] * len(required) + filled
    return filled


def check(parser, args, forwarded):
    """None if the parser accepts ``args``, else its error message."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), \
                contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(fill(parser, args, forwarded))
    except SystemExit:
        lines = err.getvalue().strip().splitlines()
        return lines[-1] if lines else 'refused (no message)'
    return None


def main():
    request = json.load(sys.stdin)
    parsers, helps = {}, {}
    for path in request['tools']:
        parsers[path], helps[path] = run_help(path)
    checks = []
    for path, args, forwarded in request['checks']:
        parser = parsers.get(path)
        checks.append(
            check(parser, args, forwarded) if parser else
            f'no argparse parser (--help: {helps[path]["error"]})')
    print(json.dumps(dict(help=helps, checks=checks)))


if __name__ == '__main__':
    main()
