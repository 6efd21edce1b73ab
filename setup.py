"""Packaging for crossmodal: everything is read from settings.ini (nbdev 2 convention)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

assert Path("settings.ini").exists(), "run setup.py from the repository root (settings.ini not found)"
config = ConfigParser(delimiters=["="])
config.read("settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]

requirements = cfg.get("requirements", "").split()
dev_requirements = cfg.get("dev_requirements", "").split()
readme = Path("README.md")

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=readme.read_text(encoding="utf-8") if readme.exists() else "",
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license="Apache-2.0",
    url=cfg["git_url"],
    python_requires=">=" + cfg["min_python"],
    package_dir={"": "lib"},
    packages=setuptools.find_packages(where="lib"),
    include_package_data=True,
    install_requires=requirements,
    extras_require={"dev": dev_requirements},
    entry_points={"nbdev": [f"{cfg['lib_path'].split('/')[-1]}={cfg['lib_name']}._modidx:d"]},
    zip_safe=False,
)
