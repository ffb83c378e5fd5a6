"""Every relative link of the README and docs/ resolves inside a clone."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')


def relative_links(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r'[a-z]+:', target) or target.startswith('#'):
            continue  # web links and anchors in the same page
        yield target.split('#')[0]


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    missing = [t for t in relative_links(page)
               if not (page.parent / t).exists()]
    assert not missing, f'{page.name} links to missing files: {missing}'


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_no_link_leaves_the_repository(page):
    outside = [t for t in relative_links(page)
               if ROOT not in (page.parent / t).resolve().parents
               and (page.parent / t).resolve() != ROOT]
    assert not outside, f'{page.name} links outside the repository: {outside}'


def test_the_finder_sees_links():
    # Guards the regular expression: a page with a dead link must fail.
    page = ROOT / 'docs' / 'method.md'
    assert 'method_ddm.md' in list(relative_links(page))


def test_nothing_points_outside_a_clone():
    # The project brief lives beside the repository, not in a clone of it.
    needles = ('CLSA' + '_SPEC', '../' + 'shared')
    suffixes = {'.py', '.md', '.sh', '.txt', '.yml', '.yaml', '.cfg', '.toml'}
    hits = []
    for path in ROOT.rglob('*'):
        parts = path.relative_to(ROOT).parts
        if (path.suffix not in suffixes or not path.is_file() or parts[0] in {
                '.venv', '.git', 'work_dirs', 'data', 'mutants'}
                or parts[0].startswith('.mutmut')):
            continue
        text = path.read_text(errors='ignore')
        rel = path.relative_to(ROOT)
        hits += [f'{rel}: {n}' for n in needles if n in text]
    assert not hits, hits
