"""Packages for setuptools (metadata lives in pyproject.toml).

The top-level `cypher/` folder ships inside the wheel as the `journeys_cypher` package: one copy, read and
pasted from the checkout, found through `importlib.resources` once installed (app/resources.py).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*", "graph_models", "graph_models.*", "consumers",
                                      "consumers.*"]), "journeys_cypher"],
    package_dir={"journeys_cypher": "cypher"},
)
