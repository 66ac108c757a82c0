# RVC Studio: builds a training's faiss index the way RVC WebUI (branch 20240604) does it inside its
# own process (infer-web.py::train_index), as a child process the runner can track and cancel.
#
# usage: python train_index.py <logs/exp dir> <exp name> <v1|v2> <outside index root> <n_cpu>
# Run it with RVC's own Python (it needs numpy, faiss and, above 200k frames, scikit-learn).
import os
import platform
import sys


def main():
    if len(sys.argv) != 6:
        print("usage: train_index.py EXP_DIR EXP_NAME VERSION OUTSIDE_INDEX_ROOT N_CPU", file=sys.stderr)
        return 2
    exp_dir, exp_name, version, outside_index_root, n_cpu = sys.argv[1:6]
    n_cpu = int(n_cpu)
    import numpy as np
    import faiss

    feature_dir = os.path.join(exp_dir, "3_feature256" if version == "v1" else "3_feature768")
    if not os.path.exists(feature_dir) or len(os.listdir(feature_dir)) == 0:
        print("Error: %s is empty; run feature extraction first." % feature_dir, file=sys.stderr)
        return 1
    npys = []
    for name in sorted(os.listdir(feature_dir)):
        npys.append(np.load("%s/%s" % (feature_dir, name)))
    big_npy = np.concatenate(npys, 0)
    big_npy_idx = np.arange(big_npy.shape[0])
    np.random.shuffle(big_npy_idx)
    big_npy = big_npy[big_npy_idx]
    if big_npy.shape[0] > 2e5:
        print("Trying doing kmeans %s shape to 10k centers." % big_npy.shape[0])
        from sklearn.cluster import MiniBatchKMeans

        big_npy = (
            MiniBatchKMeans(n_clusters=10000, verbose=True, batch_size=256 * n_cpu, compute_labels=False, init="random")
            .fit(big_npy)
            .cluster_centers_
        )
    np.save("%s/total_fea.npy" % exp_dir, big_npy)
    n_ivf = min(int(16 * np.sqrt(big_npy.shape[0])), big_npy.shape[0] // 39)
    print("%s,%s" % (big_npy.shape, n_ivf))
    if n_ivf < 1:
        # The WebUI would pass "IVF0,Flat" to faiss and fail with an obscure message.
        print("Error: only %d feature frames; an index needs at least 39 (train on more audio)." % big_npy.shape[0], file=sys.stderr)
        return 1
    index = faiss.index_factory(256 if version == "v1" else 768, "IVF%s,Flat" % n_ivf)
    print("training")
    index_ivf = faiss.extract_index_ivf(index)
    index_ivf.nprobe = 1
    index.train(big_npy)
    tail = "IVF%s_Flat_nprobe_%s_%s_%s.index" % (n_ivf, index_ivf.nprobe, exp_name, version)
    faiss.write_index(index, "%s/trained_%s" % (exp_dir, tail))
    print("adding")
    batch_size_add = 8192
    for i in range(0, big_npy.shape[0], batch_size_add):
        index.add(big_npy[i : i + batch_size_add])
    faiss.write_index(index, "%s/added_%s" % (exp_dir, tail))
    print("成功构建索引 added_%s" % tail)
    try:
        os.makedirs(outside_index_root, exist_ok=True)
        link = os.link if platform.system() == "Windows" else os.symlink
        link("%s/added_%s" % (exp_dir, tail), "%s/%s_%s" % (outside_index_root, exp_name, tail))
        print("链接索引到外部-%s" % outside_index_root)
    except Exception:
        print("链接索引到外部-%s失败" % outside_index_root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
