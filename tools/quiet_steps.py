import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time

# MMEngine's training log lines: "Epoch(train)  [3][ 9/45]  ...".
TRAIN_ITER = re.compile(
    r'Epoch\(train\)\s*\[(\d+)\]\s*\[\s*(\d+)\s*/\s*(\d+)\]')


def epoch_progress(line, max_epochs):
    """The fraction of training done that a log line reports, or None.

    Args:
        line (str): One line of a training log.
        max_epochs (int): Epochs of the run.
    """
    match = TRAIN_ITER.search(line)
    if not match:
        return None
    epoch, it, iters = (int(g) for g in match.groups())
    return min(1.0, ((epoch - 1) + it / max(iters, 1)) / max(max_epochs, 1))


class QuietSteps:
    """Runs the steps of a long job quietly: one line per step with its time.

    The full output of every command goes to a log file under ``log_dir``;
    on a terminal a progress bar follows the training log lines of long
    steps. A failed command prints its error in full (from its traceback, or
    the last lines of its output) and the path of its log, then stops the
    job with ``SystemExit``.

    Args:
        num_steps (int): Number of steps, for the ``[i/n]`` counter.
        log_dir (str): Folder of the command logs ``<step>_<name>.log``.
        stream (file, optional): Where the step lines go. Defaults to
            ``sys.stdout``.
        error_stream (file, optional): Where errors go. Defaults to
            ``sys.stderr``.
        bar (bool, optional): Draw progress bars. Defaults to whether
            ``stream`` is a terminal.
        tail (int): Lines of output shown for a failure without traceback.
    """

    def __init__(self, num_steps, log_dir, stream=None, error_stream=None,
                 bar=None, tail=30):
        self.num_steps = num_steps
        self.log_dir = log_dir
        self.stream = stream or sys.stdout
        self.error_stream = error_stream or sys.stderr
        self.bar = self.stream.isatty() if bar is None else bar
        self.tail = tail
        self.step = 0
        self.title = None
        self.times = {}

    def begin(self, title):
        """Start the next step."""
        self.step += 1
        self.title = title
        self.started = time.monotonic()
        self._write(self._head(), end='')

    def end(self):
        """Finish the step: complete its line with its time."""
        seconds = time.monotonic() - self.started
        self.times[self.title] = seconds
        if self.bar:  # over the progress bar
            self._write('\r\033[K' + self._head(), end='')
        self._write(f'done in {seconds:.0f} s')
        return seconds

    def run(self, cmd, name, max_epochs=None, **popen_kwargs):
        """Run one command of the current step, its output to a log file.

        Args:
            cmd (list[str]): The command.
            name (str): Name of the log, ``<step>_<name>.log``.
            max_epochs (int, optional): Epochs of a training run whose log
                lines drive the progress bar.
            **popen_kwargs: ``cwd``, ``env`` ... of ``subprocess.Popen``;
                ``PYTHONUNBUFFERED=1`` is added to the environment.

        Returns:
            str: The path of the log.
        """
        os.makedirs(self.log_dir, exist_ok=True)
        log = osp.join(self.log_dir, f'{self.step}_{name}.log')
        # Unbuffered: the log keeps the order of output and errors, and the
        # progress bar moves as the lines are written.
        env = dict(popen_kwargs.pop('env', os.environ), PYTHONUNBUFFERED='1')
        with open(log, 'w') as f, subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, errors='replace', env=env,
                **popen_kwargs) as proc:
            for line in proc.stdout:
                f.write(line)
                f.flush()  # the log can be followed while the step runs
                if max_epochs and self.bar:
                    done = epoch_progress(line, max_epochs)
                    if done is not None:
                        self._draw(done)
            returncode = proc.wait()
        if returncode != 0:
            self.fail(cmd, returncode, log)
        return log

    def fail(self, cmd, returncode, log):
        """Print the error of a failed command in full and stop."""
        self._write('FAILED')
        with open(log, errors='replace') as f:
            lines = f.read().splitlines()
        starts = [i for i, line in enumerate(lines)
                  if line.startswith('Traceback (most recent call last)')]
        shown = lines[starts[0]:] if starts else lines[-self.tail:]
        print('\n'.join(shown), file=self.error_stream)
        raise SystemExit(
            f'step {self.step} ({self.title}) failed: {" ".join(cmd)} '
            f'exited with {returncode}; its whole output is in {log}')

    def _head(self):
        return f'[{self.step}/{self.num_steps}] {self.title} ... '

    def _draw(self, done):
        width = shutil.get_terminal_size((80, 20)).columns
        seconds = time.monotonic() - self.started
        bar = (f'[{"#" * int(20 * done):<20s}] {100 * done:3.0f}% '
               f'{seconds:.0f} s')
        head = self._head()[:max(0, width - len(bar) - 2)]
        self._write(f'\r{head}{bar}', end='')

    def _write(self, text, end='\n'):
        self.stream.write(text + end)
        self.stream.flush()
