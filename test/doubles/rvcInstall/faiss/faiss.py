# TEST DOUBLE of the faiss module, just enough for RVC Studio's python/train_index.py: it records
# what the script asked for (dimension, IVF list count, nprobe, rows trained and added) in the
# "index" file instead of building a real index.
import json


class _Index:
    def __init__(self, d, description):
        self.d = d
        self.description = description
        self.nprobe = None
        self.trained_rows = 0
        self.ntotal = 0

    def train(self, x):
        assert x.shape[1] == self.d, "dimension mismatch"
        self.trained_rows = int(x.shape[0])

    def add(self, x):
        assert x.shape[1] == self.d, "dimension mismatch"
        self.ntotal += int(x.shape[0])


def index_factory(d, description):
    if not description.startswith("IVF") or description.startswith("IVF0,"):
        raise RuntimeError("Error in index_factory: could not parse %s" % description)
    return _Index(d, description)


def extract_index_ivf(index):
    return index


def write_index(index, path):
    with open(path, "w") as f:
        json.dump({"double": "faiss", "d": index.d, "description": index.description, "nprobe": index.nprobe,
                   "trained_rows": index.trained_rows, "ntotal": index.ntotal}, f)
