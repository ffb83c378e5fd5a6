"""The shell commands of README.md, docs/*.md and configs/**/README.md name
scripts, configs and files that exist and pass only what their tools
accept; the cheap ones run (every tool's --help, browse_views on the demo
data). How commands are read and checked: doc_commands.py."""
import os
import subprocess
import sys
from pathlib import Path

import doc_commands as dc
import pytest

ROOT = dc.ROOT
PAGES = dc.pages()

# Commands that are wrong in the ways the checker must report, each with
# a piece of the report it must give.
BAD_PAGE = '''
```bash
make demo --quick
make demo-quick
python tools/train.py configs/clsa/no_such_config.py
python tools/train.py CONFIG --no-such-flag
GPUS=8 bash tools/benchmarks/linear_eval.sh \\
    configs/clsa/r50_8xb32_200e.py \\
    <checkpoint> && make test
bash tools/benchmarks/linear_eval.sh CONFIG PRETRAIN 8 --work-dir x
bash tools/dist_train.sh CONFIG 8 --no-such-flag  # passed on to train.py
bash tools/demo.sh --quick
bash tools/no_such_tool.sh
python tools/benchmarks/bench_step.py --method no_such_method
```

```console
$ python tools/test.py CONFIG
usage: this line is output, not a command --no-such-flag
```

The inline `python tools/benchmarks/knn_eval.py CONFIG CKPT --kk 3` too.
'''
EXPECTED = {
    3: 'make does not accept --quick',
    4: "no target 'demo-quick'",
    5: 'names configs/clsa/no_such_config.py, which does not exist',
    6: 'unrecognized arguments: --no-such-flag',
    7: 'linear_eval.sh takes CONFIG PRETRAIN GPUS [ARGS]; the command gives '
    '2 argument(s)',
    10: 'refuses --work-dir',
    11: 'tools/train.py (passed on): ',
    12: 'tools/demo.sh reads --quick as its SEED',
    13: 'names tools/no_such_tool.sh, which does not exist',
    14: "argument --method: invalid choice: 'no_such_method'",
    18: 'the following arguments are required: checkpoint',
    22: 'unrecognized arguments: --kk',
}


@pytest.fixture(scope='module')
def bad_page(tmp_path_factory):
    page = tmp_path_factory.mktemp('docs') / 'bad.md'
    page.write_text(BAD_PAGE)
    return page


@pytest.fixture(scope='module')
def commands(bad_page):
    return {page: dc.page_commands(page) for page in [*PAGES, bad_page]}


@pytest.fixture(scope='module')
def probe(commands):
    """``(helps, errors)`` of dc.probe_tools for every command's tools."""
    invocations = [i for cmds in commands.values() for cmd in cmds
                   for i in dc.analyse(cmd)[1]]
    return dc.probe_tools(invocations)


@pytest.fixture(scope='module')
def make():
    return dict(make_targets=dc.make_targets(),
                make_options=dc.make_options())


def page_problems(cmds, probe, make):
    return [p for cmd in cmds for p in dc.problems(cmd, probe[1], **make)]


@pytest.mark.parametrize('page', PAGES,
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_name_what_exists_and_what_the_tools_accept(
        page, commands, probe, make):
    problems = page_problems(commands[page], probe, make)
    assert not problems, '\n'.join(problems)


def test_the_checker_reports_each_kind_of_failing_command(
        bad_page, commands, probe, make):
    problems = page_problems(commands[bad_page], probe, make)
    for line, expected in EXPECTED.items():
        hits = [p for p in problems if p.startswith(f'bad.md:{line}:')]
        assert any(expected in p for p in hits), (line, expected, problems)
    # Placeholders, env prefixes, continuations, `&&` and console output
    # give no problem of their own.
    reported = {int(p.split(':')[1]) for p in problems}
    assert reported == set(EXPECTED), problems
    parsed = [cmd.argv for cmd in commands[bad_page]]
    assert ['make', 'test'] in parsed
    assert ['bash', 'tools/benchmarks/linear_eval.sh',
            'configs/clsa/r50_8xb32_200e.py', dc.USER] in parsed


def test_the_checker_sees_the_commands_of_the_docs(commands):
    # Guards the parsing: the README's real job and the two newcomer
    # commands are found as commands.
    readme = [cmd.argv for cmd in commands[ROOT / 'README.md']]
    assert ['make', 'demo'] in readme and ['make', 'test'] in readme
    assert any(argv[:3] == ['bash', 'tools/dist_train.sh',
                            'configs/clsa/r50_8xb32_800e.py']
               for argv in readme)
    assert any(argv[:2] == ['bash', 'tools/benchmarks/linear_eval.sh']
               for argv in readme)


def test_every_tool_the_docs_run_prints_its_help(commands, probe):
    helps, _ = probe
    tools = {i.tool for page in PAGES for cmd in commands[page]
             for i in dc.analyse(cmd)[1]}
    assert {'tools/train.py', 'tools/run_demo.py',
            'tools/analysis_tools/browse_views.py'} <= tools
    failed = {tool: helps[tool] for tool in tools
              if helps[tool]['exit'] != 0 or helps[tool]['error']
              or 'usage:' not in helps[tool]['output']}
    assert not failed, failed


def test_what_a_command_reads_its_page_says_how_to_write(commands):
    # A checkpoint or backbone a page reads from work_dirs/ is in a folder
    # that a command of the page, or of a page it links to, writes: a
    # reader following the pages finds the file.
    problems = dc.unwritten_reads({page: commands[page] for page in PAGES})
    assert not problems, '\n'.join(problems)


def test_a_read_without_its_writer_is_reported(tmp_path):
    train = tmp_path / 'train.md'
    train.write_text('```bash\nbash tools/dist_train.sh '
                     'configs/clsa/r50_8xb32_800e.py 8\n```\n')
    probe = tmp_path / 'probe.md'
    text = ('```bash\nbash tools/benchmarks/linear_eval.sh CONFIG '
            'work_dirs/clsa/epoch_800.pth 8\n'
            'bash tools/benchmarks/linear_eval.sh CONFIG '
            'work_dirs/r50_8xb32_800e/epoch_800.pth 8\n```\n')
    probe.write_text(text)
    pages = {p: dc.page_commands(p) for p in (train, probe)}
    problems = dc.unwritten_reads(pages)
    assert len(problems) == 2, problems  # probe.md does not link train.md
    assert 'work_dirs/clsa/epoch_800.pth' in problems[0]
    probe.write_text(text + '\nAfter [pretraining](train.md).\n')
    problems = dc.unwritten_reads(pages)
    # The default work dir of a training without --work-dir is
    # work_dirs/<config name>.
    assert len(problems) == 1 and 'probe.md:2:' in problems[0], problems
    assert 'reads work_dirs/clsa/epoch_800.pth' in problems[0]
    assert 'trains into work_dirs/clsa/' in problems[0]


def test_every_shell_tool_has_a_usage_the_checker_reads():
    scripts = [p for p in ROOT.glob('tools/**/*.sh')
               if p.read_text().startswith('#!')]  # not sourced libraries
    assert len(scripts) >= 10
    for script in scripts:
        rel = str(script.relative_to(ROOT))
        usage = dc.parse_usage(rel)
        assert usage is not None, rel
        names, optional, forwards, flags = usage
        if forwards:
            assert rel in dc.FORWARDS, f'{rel}: where do its ARGS go?'


def test_documented_browse_views_runs_on_the_demo_data(
        tmp_path, tiny_imagenet, commands):
    # Each documented browse_views command runs as written, from a folder
    # that holds the repository's tools and configs and an image folder as
    # data/demo (what `make demo` makes) and nothing else.
    runs = [cmd for page in PAGES for cmd in commands[page]
            if 'tools/analysis_tools/browse_views.py' in cmd.argv[:2]]
    assert any(arg.startswith('configs/demo/') for cmd in runs
               for arg in cmd.argv), 'no browse_views on a demo config'
    for name in ('tools', 'configs'):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'demo').symlink_to(tiny_imagenet)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    for cmd in runs:
        argv = [sys.executable if a in dc.PYTHONS else a for a in cmd.argv]
        proc = subprocess.run(argv, cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        where = f'{cmd.page.name}:{cmd.line}: {cmd.text}'
        assert proc.returncode == 0, f'{where}\n{proc.stderr[-3000:]}'
        output = dc._flag_value(cmd.argv, '--output')
        if output:
            assert (tmp_path / output).stat().st_size > 0, where


def test_placeholders_are_user_values():
    for token in ('CONFIG', 'BACKBONE.pth', '$WORK_DIR', '${WORK_DIR}/x.pth',
                  dc.USER, f'work_dirs/{dc.USER}/epoch_1.pth'):
        assert dc.is_user_value(token), token
    for token in ('configs/clsa/r50_8xb32_800e.py', '8', 'README.md'):
        assert not dc.is_user_value(token), token
    cmds = dc.page_commands(Path('x.md'), '```sh\nbash tools/dist_train.sh '
                            '<your config> 8 > log.txt 2>&1\n```\n')
    assert [cmd.argv for cmd in cmds] == [
        ['bash', 'tools/dist_train.sh', dc.USER, '8']]
