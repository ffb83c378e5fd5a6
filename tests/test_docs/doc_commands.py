"""The shell commands of the documentation, and the checks they must pass.

A page's commands are the lines of its fenced ``bash``/``sh``/``shell``/
``console`` blocks (``console``: the ``$ `` lines) and its inline code spans
that start with a program (``make test``, ``python tools/...``). Line
continuations, comments, ``VAR=value`` prefixes and ``&&``/``;``/``|`` are
handled as the shell does; ``<...>``, ``$VAR``, ``${VAR}`` and upper-case
words (``CONFIG``, ``PRETRAIN``) are values the user fills in, ``[...]``
marks an optional argument and ``...`` more of them.

:func:`problems` checks one command against the repository: the scripts,
configs and files it names exist; a shell tool gets the arguments its usage
line asks for; ``make`` gets targets of the Makefile and only options make
accepts. The arguments of the Python tools under ``tools/`` (directly, or
passed on by a shell tool) are checked by the parsers the tools themselves
build, in a subprocess (:func:`probe_tools`, ``tool_parsers.py``).
"""
import json
import os
import re
import shlex
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a user fills in; also what the parsers of tool_parsers.py receive.
USER = '@USER@'

Command = namedtuple('Command', 'page line argv env text')
# A Python tool of tools/ and the arguments it receives; ``forwarded``: the
# arguments come after the tool's positionals (a shell tool's ARGS).
Invocation = namedtuple('Invocation', 'tool args forwarded')

SHELL_LANGS = {'bash', 'sh', 'shell', 'console'}
FENCE = re.compile(
    r'^(?P<fence>```|~~~)(?P<lang>[\w-]*)[^\n]*\n'
    r'(?P<body>.*?)^(?P=fence)[ \t]*$', re.S | re.M)
INLINE = re.compile(r'(?<!`)`([^`\n]+(?:\n[^`\n]+)*)`(?!`)')
ANGLE = re.compile(r'<[A-Za-z_][^<>\n]*?>')
ASSIGN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*=')
UPPER = re.compile(r'[A-Z][A-Z0-9_]*(\.[A-Za-z0-9]+)*')
SEPARATORS = {'&&', '||', ';', '|', '&', ';;'}
PYTHONS = {'python', 'python3', '.venv/bin/python', '$PYTHON', '${PYTHON}'}
PROGRAMS = PYTHONS | {'make', 'bash', 'sh', 'mim'}
# Where a path of the repository starts (work_dirs/ and data/ are what the
# commands write or what the user brings).
REPO_DIRS = ('clsa_mm', 'configs', 'docs', 'requirements', 'tests', 'tools')

# The shell tools that pass their trailing ARGS on to a Python tool, and the
# flags they refuse (the benchmark scripts set --work-dir from WORK_DIR).
FORWARDS = {
    'tools/demo.sh': ('tools/run_demo.py', ()),
    'tools/dist_train.sh': ('tools/train.py', ()),
    'tools/dist_test.sh': ('tools/test.py', ()),
    'tools/slurm_train.sh': ('tools/train.py', ()),
    'tools/slurm_test.sh': ('tools/test.py', ()),
    'tools/benchmarks/linear_eval.sh': ('tools/train.py', ('--work-dir', )),
    'tools/benchmarks/slurm_linear_eval.sh':
    ('tools/train.py', ('--work-dir', )),
    'tools/benchmarks/mmdetection/train_det.sh':
    ('tools/train.py', ('--work-dir', )),
    'tools/benchmarks/mmdetection/slurm_train_det.sh':
    ('tools/train.py', ('--work-dir', )),
}
# mim's own options (with a value) before it hands the rest to the tool.
MIM_OPTIONS = {'--gpus', '--gpus-per-node', '--cpus-per-task', '--partition',
               '--srun-args', '--port', '--checkpoint', '-G', '-p'}
MIM_TOOLS = {'train': 'tools/train.py', 'test': 'tools/test.py'}


def pages(root=ROOT):
    """README.md, docs/*.md and every configs/**/README.md."""
    return [root / 'README.md', *sorted((root / 'docs').glob('*.md')),
            *sorted((root / 'configs').rglob('README.md'))]


def is_user_value(token):
    """A value the reader fills in: ``@USER@`` (from ``<...>``), ``$VAR``,
    ``CONFIG``, ``BACKBONE.pth``."""
    token = token.strip('[]')
    return (USER in token or '$' in token
            or (UPPER.fullmatch(token) is not None
                and not (ROOT / token).exists()))


def _logical_lines(body, console):
    """``(offset, line)``: continuation lines joined, console prompts kept."""
    out, buf, start = [], '', None
    for i, line in enumerate(body.splitlines()):
        if console and start is None:
            if not line.startswith('$ '):
                continue  # output
            line = line[2:]
        if start is None:
            start = i
        if line.rstrip().endswith('\\'):
            buf += line.rstrip()[:-1] + ' '
            continue
        out.append((start, buf + line))
        buf, start = '', None
    if start is not None:
        out.append((start, buf))
    return out


def split_commands(line):
    """The simple commands of one shell line: a list of token lists."""
    lexer = shlex.shlex(ANGLE.sub(USER, line), posix=True,
                        punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    commands, current, skip = [], [], False
    for token in tokens:
        if skip:
            skip = False
        elif token in SEPARATORS:
            commands.append(current)
            current = []
        elif set(token) <= set('<>&') and set(token) & set('<>'):
            skip = True  # a redirection and its target
            if token.endswith('&') and current and current[-1].isdigit():
                current.pop()  # the 2 of 2>&1
        else:
            current.append(token)
    commands.append(current)
    return [c for c in commands if c]


def _command(page, line, tokens, text):
    env = {}
    while tokens and ASSIGN.match(tokens[0]):
        key, value = tokens.pop(0).split('=', 1)
        env[key] = value
    while tokens and tokens[0] in ('time', 'exec', 'sudo'):
        tokens.pop(0)
    tokens = [t for t in tokens if t not in ('...', '…')]
    return Command(page, line, tokens, env, text) if tokens else None


def page_commands(page, text=None):
    """Every command of a Markdown page, with its line number."""
    text = page.read_text() if text is None else text
    commands, blanked = [], text
    for block in FENCE.finditer(text):
        body_line = text.count('\n', 0, block.start('body')) + 1
        # Inline spans are looked for outside the fenced blocks only.
        blanked = (blanked[:block.start()] +
                   re.sub(r'[^\n]', ' ', block.group()) +
                   blanked[block.end():])
        if block.group('lang') not in SHELL_LANGS:
            continue
        for offset, line in _logical_lines(block.group('body'),
                                           block.group('lang') == 'console'):
            try:
                parts = split_commands(line)
            except ValueError as e:  # unbalanced quotes
                commands.append(Command(page, body_line + offset, [], {},
                                        f'{line} ({e})'))
                continue
            for tokens in parts:
                cmd = _command(page, body_line + offset, tokens,
                               ' '.join(line.split()))
                if cmd:
                    commands.append(cmd)
    for span in INLINE.finditer(blanked):
        line = ' '.join(span.group(1).split())
        try:
            parts = split_commands(line)
        except ValueError:
            continue  # prose with an apostrophe, not a command
        for tokens in parts:
            cmd = _command(page, text.count('\n', 0, span.start()) + 1,
                           tokens, line)
            if cmd and cmd.argv[0] in PROGRAMS:
                commands.append(cmd)
    return commands


def _exists(path):
    if any(c in path for c in '*?'):
        return any(ROOT.glob(path))
    return (ROOT / path).exists()


def named_paths(argv):
    """The tokens (or ``--flag=``/``key=`` values) that name a path of the
    repository."""
    for token in argv:
        token = token.strip('[]')
        for part in (token, token.split('=', 1)[-1]):
            if is_user_value(part):
                continue
            first = part.split('/')[0]
            if first in REPO_DIRS and (part == first or '/' in part):
                yield part.rstrip('/')
                break


def parse_usage(script):
    """``(names, optional, forwards, flags)`` of a shell tool's usage: its
    positional names in order, which of them are optional, whether it takes
    trailing ARGS, and the flags it parses itself; None without a usage."""
    text = (ROOT / script).read_text()
    spec = None
    need = re.search(r'take_args "([^"]*)"', text)
    echo = re.search(r'echo "usage: \$0 ([^"]*)"', text)
    if need or echo:
        spec = (need or echo).group(1)
    else:
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if re.match(r'#\s*Usage:', line, re.I):
                usage = line
                while usage.rstrip().endswith('\\') and i + 1 < len(lines):
                    i += 1
                    usage = usage.rstrip()[:-1] + ' ' + lines[i].lstrip('# ')
                name = Path(script).name
                match = re.search(r'\S*' + re.escape(name) + r'\s*(.*)',
                                  usage)
                spec = match.group(1) if match else None
                break
    if spec is None:
        return None
    names, optional, forwards, flags = [], set(), False, set()
    for group, word in re.findall(r'\[([^\]]*)\]|(\S+)', spec):
        if word:
            names.append(word)
        elif group.startswith('-'):
            flags |= set(group.split('|'))
        elif 'ARGS' in group or 'options' in group:
            forwards = True
        else:
            names.append(group)
            optional.add(group)
    return names, optional, forwards, flags


def _shell_tool(script, args):
    """Problems with a shell tool's arguments, and the Python tool they are
    passed on to."""
    usage = parse_usage(script)
    if usage is None:
        return [f'{script} has no usage line to check the command against'
                ], []
    names, optional, forwards, flags = usage
    required = [n for n in names if n not in optional]
    problems, invocations = [], []
    if flags:  # a tool that parses its own options
        problems += [f'{script} does not accept {a} (it takes '
                     f'{" or ".join(sorted(flags))})'
                     for a in args if a.strip('[]') not in flags]
        return problems, invocations
    if len(args) < len(required):
        problems.append(f'{script} takes {" ".join(names)}'
                        f'{" [ARGS]" if forwards else ""}; the command gives '
                        f'{len(args)} argument(s)')
        return problems, invocations
    for name, arg in zip(names, args):
        if arg.startswith('-'):
            problems.append(f'{script} reads {arg} as its {name} (arguments '
                            f'are positional: {" ".join(names)} first)')
    rest = args[len(names):]
    if rest and not forwards:
        problems.append(f'{script} takes {" ".join(names)}, not also '
                        f'{" ".join(rest)}')
    elif rest:
        target, refused = FORWARDS.get(script, (None, ()))
        problems += [f'{script} refuses {a} (it sets it from WORK_DIR)'
                     for a in rest
                     if a.split('=')[0] in refused]
        if target:
            invocations.append(Invocation(target, tuple(rest), True))
    return problems, invocations


def _make(args, targets, options):
    problems = []
    for arg in args:
        if ASSIGN.match(arg):
            continue
        if arg.startswith('-'):
            if arg.split('=')[0] not in options:
                problems.append(f'make does not accept {arg} (make passes no '
                                f'options to a target; a variable or the '
                                f'tool itself does)')
        elif arg not in targets:
            problems.append(f'the Makefile has no target {arg!r}')
    return problems


def analyse(cmd, make_targets=(), make_options=()):
    """``(problems, invocations)`` of one command without running a tool."""
    argv = cmd.argv
    if not argv:
        return [f'cannot parse: {cmd.text}'], []
    problems = [f'names {path}, which does not exist'
                for path in named_paths(argv) if not _exists(path)]
    invocations = []
    script, args = None, []
    program = argv[0]
    if program in PYTHONS and len(argv) > 1 and not argv[1].startswith('-'):
        script, args = argv[1], argv[2:]
    elif program in ('bash', 'sh') and len(argv) > 1:
        script, args = argv[1], argv[2:]
    elif program.endswith(('.sh', '.py')):
        script, args = program, argv[1:]
    elif program == 'make':
        problems += _make(argv[1:], make_targets, make_options)
    elif program == 'mim' and len(argv) > 3 and argv[1] in MIM_TOOLS:
        if argv[2] == 'clsa_mm':
            config = argv[3]
            if not is_user_value(config) and not list(
                    (ROOT / 'configs').rglob(Path(config).name)):
                problems.append(f'mim finds no config {config} in configs/')
            rest, skip = [], False
            for arg in argv[4:]:
                if skip:
                    skip = False
                elif arg.split('=')[0] in MIM_OPTIONS:
                    skip = '=' not in arg
                else:
                    rest.append(arg)
            invocations.append(Invocation(MIM_TOOLS[argv[1]], tuple(rest),
                                          True))
    if script is None or is_user_value(script):
        return problems, invocations
    if script.startswith('/'):
        return problems, invocations  # not the repository's
    if not (ROOT / script).is_file():
        if script not in named_paths([script]):  # else reported above
            problems.append(f'names {script}, which does not exist')
        return problems, invocations
    if script.startswith('tools/') and script.endswith('.py'):
        invocations.append(Invocation(script, tuple(args), False))
    elif script.startswith('tools/') and script.endswith('.sh'):
        more, invocations_sh = _shell_tool(script, args)
        problems += more
        invocations += invocations_sh
    return problems, invocations


def make_targets(root=ROOT):
    text = (root / 'Makefile').read_text()
    targets = set(re.findall(r'^([A-Za-z0-9_.-]+)\s*:(?!=)', text, re.M))
    for line in re.findall(r'^\.PHONY:(.*)$', text, re.M):
        targets |= set(line.split())
    return targets - {'.PHONY'}


def make_options():
    """The options of ``make --help``."""
    out = subprocess.run(['make', '--help'], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r'(?<![\w-])(--?[A-Za-z][\w-]*)', out))


def probe_tools(invocations, tools=()):
    """Run ``--help`` of every tool (and of the tools of ``invocations``) and
    check each invocation's arguments with the tool's own parser.

    Returns ``(helps, errors)``: tool -> ``{'exit', 'output', 'error'}`` and
    invocation -> the parser's error message (None: accepted).
    """
    invocations = sorted(set(invocations))
    tools = sorted(set(tools) | {i.tool for i in invocations})
    request = dict(
        tools=tools,
        checks=[[i.tool, [USER if is_user_value(a) else a.strip('[]')
                          for a in i.args], i.forwarded]
                for i in invocations])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), os.environ.get('PYTHONPATH', '')]), OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name('tool_parsers.py'))],
        input=json.dumps(request), capture_output=True, text=True, cwd=ROOT,
        env=env, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f'tool_parsers.py exited {proc.returncode}:\n'
                           f'{proc.stderr[-4000:]}')
    reply = json.loads(proc.stdout.strip().splitlines()[-1])
    return reply['help'], dict(zip(invocations, reply['checks']))


def problems(cmd, errors, make_targets=(), make_options=()):
    """Every problem of one command (``errors``: from :func:`probe_tools`)."""
    found, invocations = analyse(cmd, make_targets, make_options)
    for invocation in invocations:
        error = errors.get(invocation)
        if error:
            via = '' if not invocation.forwarded else ' (passed on)'
            found.append(f'{invocation.tool}{via}: {error}')
    where = f'{cmd.page.name}:{cmd.line}'
    return [f'{where}: `{cmd.text}`: {p}' for p in found]


# Work directories: which commands write where, and which read from there.
def _config_stem(args):
    for arg in args:
        if not arg.startswith('-'):
            return None if is_user_value(arg) else Path(arg.strip('[]')).stem
    return None


def _flag_value(args, flag):
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + '='):
            return arg.split('=', 1)[1]
    return None


def _script_and_args(cmd):
    argv = cmd.argv
    if argv[0] in PYTHONS | {'bash', 'sh'} and len(argv) > 1:
        return argv[1], argv[2:]
    if argv[0] == 'make' and 'demo' in argv[1:]:
        return 'tools/demo.sh', []
    if argv[0] == 'mim' and len(argv) > 3 and argv[1] == 'train':
        return 'tools/train.py', argv[3:]
    return argv[0], argv[1:]


# The tools whose positional argument at this index is a file they write.
OUTPUT_FILE = {
    'tools/model_converters/extract_backbone_weights.py': 1,
    'tools/model_converters/convert_reference_clsa.py': 1,
}


def writes(cmd):
    """``(folders, files)``: the run folders a command trains or writes
    into, and the single files it writes."""
    script, args = _script_and_args(cmd)
    folders, files = set(), set()
    for flag in ('--out', '--output'):
        files.add(_flag_value(args, flag))
    positionals = [a for a in args if not a.startswith('-')]
    index = OUTPUT_FILE.get(script)
    if index is not None and len(positionals) > index:
        files.add(positionals[index])
    folders.add(_flag_value(args, '--work-dir'))
    stem = _config_stem(args)
    if script in ('tools/train.py', 'tools/dist_train.sh') and stem:
        if not _flag_value(args, '--work-dir'):
            folders.add(f'work_dirs/{stem}')
    elif script == 'tools/slurm_train.sh' and len(positionals) > 3:
        folders.add(positionals[3])
    elif script.startswith('tools/benchmarks/') and script.endswith('.sh'):
        configs = positionals[1:2] if 'slurm' in script else positionals[:1]
        for config in configs:
            if not is_user_value(config):
                folders.add(cmd.env.get(
                    'WORK_DIR', f'work_dirs/benchmarks/{Path(config).stem}'))
    elif script in ('tools/demo.sh', 'tools/run_demo.py'):
        folders.add(_flag_value(args, '--work-dir') or 'work_dirs/demo')
    elif script == 'tools/benchmarks/ablation.py':
        folders.add(_flag_value(args, '--work-dir') or 'work_dirs/ablation')

    def clean(paths):
        return {p.strip('[]').rstrip('/') for p in paths
                if p and not is_user_value(p)}

    return clean(folders), clean(files)


def reads(cmd):
    """The paths under work_dirs/ a command names and does not write."""
    folders, files = writes(cmd)
    return [t.strip('[]') for t in cmd.argv[1:]
            if t.strip('[]').startswith('work_dirs/')
            and t.strip('[]').rstrip('/') not in folders | files
            and not is_user_value(t)]


def _run_dir(path):
    """``work_dirs/X`` of ``work_dirs/X/...``."""
    return '/'.join(Path(path).parts[:2])


LINK = re.compile(r'\[[^\]]*\]\(([^)\s#]+)(?:#[^)\s]*)?\)')


def linked_pages(page):
    """The Markdown pages ``page`` links to (relative links)."""
    for target in LINK.findall(page.read_text()):
        path = (page.parent / target).resolve()
        if target.endswith('.md') and path.is_file():
            yield path


def unwritten_reads(commands_by_page):
    """Problems: a command reads a file under work_dirs/ that no command of
    its page, or of a page its page links to, writes, either as that file
    or as a run folder holding it (a reader would not find the file)."""
    by_page = {}
    for page, cmds in commands_by_page.items():
        folders, files = set(), set()
        for cmd in cmds:
            if cmd.argv:
                more = writes(cmd)
                folders |= more[0]
                files |= more[1]
        by_page[page.resolve()] = folders, files
    found = []
    for page, cmds in commands_by_page.items():
        folders, files = map(set, by_page[page.resolve()])
        for other in linked_pages(page):
            more = by_page.get(other, (set(), set()))
            folders |= more[0]
            files |= more[1]
        runs = {_run_dir(f) for f in folders if f.startswith('work_dirs/')}
        for cmd in cmds:
            if not cmd.argv:
                continue
            for path in reads(cmd):
                if path not in files and _run_dir(path) not in runs:
                    found.append(
                        f'{page.name}:{cmd.line}: `{cmd.text}`: reads {path}, '
                        f'but no command of {page.name} or of a page it '
                        f'links to writes it or trains into '
                        f'{_run_dir(path)}/ (they train into: '
                        f'{", ".join(sorted(runs)) or "nothing"})')
    return found
