import io
import sys

import pytest

from cli_helpers import load_tool

quiet_steps = load_tool('tools/quiet_steps.py')
QuietSteps = quiet_steps.QuietSteps
epoch_progress = quiet_steps.epoch_progress

# A fake training run: 2 epochs of 4 iterations, logged every 2.
TRAINING = '''
import sys
print('loading the config ...')
for epoch in (1, 2):
    for it in (2, 4):
        print(f'12/02 15:00:00 - mmengine - INFO - Epoch(train)  '
              f'[{epoch}][{it}/4]  lr: 3.0000e-02  loss: 1.0')
print('a warning', file=sys.stderr)
'''
FAILING = '''
print('many lines of log\\n' * 100, end='')
def inner():
    raise ValueError('the cause, in full')
inner()
'''


def test_epoch_progress_reads_mmengine_log_lines():
    line = ('12/02 15:00:00 - mmengine - INFO - Epoch(train)  [3][ 9/45]  '
            'lr: 3.0000e-02')
    assert epoch_progress(line, 12) == pytest.approx((2 + 9 / 45) / 12)
    assert epoch_progress(line.replace('[ 9/45]', '[45/45]'), 3) == 1.0
    assert epoch_progress('Epoch(val) [3][ 9/45]', 12) is None
    assert epoch_progress('nothing to see', 12) is None


def test_one_line_per_step_and_the_full_output_in_a_log(tmp_path):
    out = io.StringIO()
    steps = QuietSteps(2, str(tmp_path / 'logs'), stream=out, bar=False)
    steps.begin('Pretraining')
    log = steps.run([sys.executable, '-c', TRAINING], 'train',
                    max_epochs=2)
    steps.end()
    steps.begin('Nothing')
    steps.end()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith('[1/2] Pretraining ... done in ')
    assert lines[0].endswith(' s')
    assert lines[1].startswith('[2/2] Nothing ... done in ')
    assert log == str(tmp_path / 'logs' / '1_train.log')
    text = open(log).read()
    assert 'loading the config' in text and 'a warning' in text
    assert text.count('Epoch(train)') == 4
    assert set(steps.times) == {'Pretraining', 'Nothing'}


def test_progress_bar_follows_the_training_log(tmp_path):
    out = io.StringIO()
    steps = QuietSteps(1, str(tmp_path), stream=out, bar=True)
    steps.begin('Pretraining')
    steps.run([sys.executable, '-c', TRAINING], 'train', max_epochs=2)
    steps.end()
    frames = out.getvalue().split('\r')
    bars = [f for f in frames if '%' in f]
    assert [f.split(']')[-1].split('%')[0].strip() for f in bars] == [
        '25', '50', '75', '100'
    ]
    assert '[' + '#' * 20 + ']' in bars[-1]
    # The last frame clears the bar and ends the step's only line.
    assert frames[-1].startswith('\033[K[1/1] Pretraining ... done in ')
    assert out.getvalue().count('\n') == 1


def test_a_failure_prints_the_error_in_full(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    steps = QuietSteps(1, str(tmp_path), stream=out, error_stream=err,
                       bar=False)
    steps.begin('Failing step')
    with pytest.raises(SystemExit) as error:
        steps.run([sys.executable, '-c', FAILING], 'fail')
    assert out.getvalue() == '[1/1] Failing step ... FAILED\n'
    shown = err.getvalue()
    assert shown.startswith('Traceback (most recent call last)')
    assert 'line 5, in <module>' in shown and 'line 4, in inner' in shown
    assert shown.rstrip().endswith('ValueError: the cause, in full')
    assert 'many lines of log' not in shown
    message = str(error.value)
    assert 'step 1 (Failing step) failed' in message
    assert 'exited with 1' in message
    assert str(tmp_path / '1_fail.log') in message
    assert open(tmp_path / '1_fail.log').read().count('many lines') == 100


def test_a_failure_without_traceback_prints_the_last_lines(tmp_path):
    err = io.StringIO()
    steps = QuietSteps(1, str(tmp_path), stream=io.StringIO(),
                       error_stream=err, bar=False, tail=3)
    steps.begin('Shell')
    with pytest.raises(SystemExit):
        steps.run(['bash', '-c', 'for i in 1 2 3 4 5; do echo line $i; '
                   'done; echo "error: bad SEED" >&2; exit 2'], 'shell')
    assert err.getvalue().splitlines() == [
        'line 4', 'line 5', 'error: bad SEED'
    ]
