"""Build hook: the wheel carries the knowledge files of cards/ as cds_service/cards.

Everything else about the package is in pyproject.toml. The knowledge stays in cards/ at the top of the checkout
(where clinicians review it); a build copies it into the package, so an installed service (a wheel, the Docker
image) finds it without CRS_CDS_KNOWLEDGE_DIR. An editable install reads cards/ of the checkout directly.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CARDS = Path(__file__).resolve().parent / "cards"


class BuildPyWithCards(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "cds_service" / "cards"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(CARDS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithCards})
