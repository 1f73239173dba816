"""pytest's view of the checkout: where the engine runs compiled, its compiled modules' doctests
run from their source in a process of their own (tests/test_compiled.py), since the extension
modules shadow the source pytest would import to collect them."""
import supplysim.engine
from supplysim.engine.compiled import MODULES

collect_ignore = [f"supplysim/engine/{name}.py" for name in MODULES] if supplysim.engine.ENGINE == "compiled" else []
