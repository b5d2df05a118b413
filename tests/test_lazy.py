"""Stage packages re-export heavy modules' names lazily: the name resolves, the module loads only then."""

import subprocess
import sys

import pytest

from cordswivel.lazy import lazy_attribute


def test_lazy_attribute_imports_the_module_that_defines_the_name():
    import cordswivel.tutorial.analysis as analysis

    assert lazy_attribute("cordswivel.tutorial", {"TUTORIAL_TERMS": "analysis"}, "TUTORIAL_TERMS") is (
        analysis.TUTORIAL_TERMS
    )
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        lazy_attribute("cordswivel.tutorial", {"TUTORIAL_TERMS": "analysis"}, "nothing")


def test_stage_packages_import_no_heavy_library_until_asked():
    code = (
        "import sys, cordswivel, cordswivel.embedding, cordswivel.tutorial, cordswivel.explorer, cordswivel.pipeline\n"
        "heavy = ('tensorflow', 'matplotlib', 'starlette')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(heavy)}))\n"
        "cordswivel.explorer.Explorer\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"]
