# RVC Studio: asks the user's Python (RVC's venv) what device RVC's configs/config.py would pick.
# Prints one JSON line. Run with the same interpreter that will run RVC's scripts.
import json
import sys

result = {"python": sys.version.split()[0], "torch": None, "cuda": False, "mps": False, "gpus": []}
try:
    import torch

    result["torch"] = torch.__version__
    if torch.cuda.is_available():
        result["cuda"] = True
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            result["gpus"].append({"index": i, "name": torch.cuda.get_device_name(i), "memGb": round(props.total_memory / 1024 / 1024 / 1024 + 0.4)})
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        result["mps"] = True
except Exception as error:  # noqa: BLE001 - any import failure means "no torch"; the runner says so
    result["error"] = "%s: %s" % (type(error).__name__, error)
print(json.dumps(result))
