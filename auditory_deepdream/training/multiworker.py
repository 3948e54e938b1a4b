"""Training across machines: ``tf.distribute.MultiWorkerMirroredStrategy`` configured from ``TF_CONFIG``.

Start the same ``auditory-deepdream train`` command on every machine, each with a
``TF_CONFIG`` naming the cluster and its own place in it::

    TF_CONFIG='{"cluster": {"worker": ["10.0.0.5:12345", "10.0.0.6:12345"]},
                "task": {"type": "worker", "index": 0}}'

Worker 0 (or the task of type ``chief``) writes the logs and the model; the others train
in step with it and write nothing. Every worker needs the store at the same path.

Keras 3's ``fit`` does not run under this strategy (keras-team/keras#20585: its first-batch
build and its per-step metric reduction assume one worker), so :func:`fit_multi_worker` is a
small synchronous loop of its own. Each worker takes its share of every global batch; the
optimizer sums the gradients over all workers and batch-norm statistics are averaged over
them after every epoch, so the weights stay identical everywhere; validation, callbacks and
the decision to stop are then the same on every worker, so the workers never fall out of step.
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np

from ..errors import ModelError

__all__ = ["cluster_from_environment", "strategy_from_environment", "is_multi_worker", "is_chief",
           "fit_multi_worker"]


def cluster_from_environment() -> dict | None:
    """The cluster described by ``TF_CONFIG``, or ``None`` if it is unset.

    Returns
    -------
    dict or None
        ``workers`` (how many, the chief included), ``rank`` (this task's place among
        them, the chief first), ``type``, ``index`` and ``chief`` (whether this task writes
        the results).

    Raises
    ------
    ModelError
        ``TF_CONFIG`` is not JSON, or lacks the cluster or this task's place in it.
    """
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    example = ('{"cluster": {"worker": ["host0:12345", "host1:12345"]}, '
               '"task": {"type": "worker", "index": 0}}')
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
        workers = list(cluster.get("chief", [])) + list(cluster.get("worker", []))
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"TF_CONFIG is not a cluster description ({exc!r}); it should look like {example}.") from exc
    if kind not in ("chief", "worker") or index < 0 or index >= len(cluster.get(kind, [])):
        raise ModelError(f"TF_CONFIG's task {task} is not in its cluster {cluster}; give each machine its own "
                         f"type and index, e.g. {example}.")
    has_chief = "chief" in cluster
    rank = index if kind == "chief" or not has_chief else index + len(cluster["chief"])
    return {"workers": len(workers), "rank": rank, "type": kind, "index": index, "chief": rank == 0}


def strategy_from_environment():
    """A ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several workers, else ``None``.

    Call it first thing: TensorFlow must not have run an operation before the strategy exists.
    """
    cluster = cluster_from_environment()
    if cluster is None or cluster["workers"] < 2:
        return None
    import tensorflow as tf

    return tf.distribute.MultiWorkerMirroredStrategy()


def is_multi_worker(strategy) -> bool:
    """Whether ``strategy`` spans several workers (then :func:`fit_multi_worker` trains)."""
    if strategy is None:
        return False
    import tensorflow as tf

    cluster = cluster_from_environment()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(cluster) and cluster["workers"] > 1


def is_chief(strategy=None) -> bool:
    """Whether this process writes the results: always, unless it is a non-chief worker of a cluster."""
    return not is_multi_worker(strategy) or cluster_from_environment()["chief"]


def _share(batch, *, worker: int, n_workers: int):
    """This worker's rows of a global batch (``np.array_split`` shares: sizes differ by at most one)."""
    return tuple(np.array_split(part, n_workers)[worker] for part in batch)


def _local_scores(model, seq) -> dict:
    """Loss and accuracy of the whole sequence (every worker computes the same numbers)."""
    loss = correct = count = 0.0
    for i in range(len(seq)):
        x, y, *weights = seq[i]
        probs = np.asarray(model(x, training=False))
        per = -np.log(np.clip((probs * y).sum(axis=1), 1e-7, 1.0))
        loss += float(per.sum())
        correct += float((probs.argmax(axis=1) == y.argmax(axis=1)).sum())
        count += len(x)
    return {"loss": loss / count, "accuracy": correct / count}


def fit_multi_worker(model: keras.Model, train_seq, valid_seq, *, strategy, epochs: int, callbacks) -> None:
    """Train ``model`` (built under ``strategy.scope()``) in step with the other workers.

    Parameters
    ----------
    model : keras.Model
        Compiled; its optimizer sums the replicas' gradients.
    train_seq, valid_seq : InstrumentSequence
        The same global sequences on every worker (same store, seed and batch size).
    strategy : tf.distribute.MultiWorkerMirroredStrategy
    epochs : int
    callbacks : list of keras.callbacks.Callback
        Called with the same ``logs`` on every worker (``loss``, ``accuracy``, ``val_loss``,
        ``val_accuracy``); training stops when any worker's callbacks ask to.
    """
    import tensorflow as tf

    cluster = cluster_from_environment()
    n_workers, worker = cluster["workers"], cluster["rank"]
    if strategy.num_replicas_in_sync != n_workers:
        raise ModelError(f"TF_CONFIG names {n_workers} workers but the strategy has {strategy.num_replicas_in_sync} "
                         "replicas; multi-worker training takes one device per worker.")
    callback_list = keras.callbacks.CallbackList(list(callbacks), model=model)

    @tf.function
    def train_step(x, y, weight, global_size):
        def step(x, y, weight):
            with tf.GradientTape() as tape:
                probs = model(x, training=True)
                per_example = keras.losses.categorical_crossentropy(y, probs) * weight
                loss = tf.reduce_sum(per_example) / global_size
            grads = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
            hits = tf.cast(tf.equal(tf.argmax(probs, axis=1), tf.argmax(y, axis=1)), tf.float32)
            return tf.reduce_sum(per_example), tf.reduce_sum(hits)

        sums = strategy.run(step, args=(x, y, weight))
        return [strategy.reduce("SUM", s, axis=None) for s in sums]

    def average_statistics() -> None:
        # batch-norm moving statistics follow each worker's own rows; their mean is what one
        # worker seeing the whole batch would hold, and keeps validation the same everywhere
        for variable in model.non_trainable_variables:
            local = strategy.run(lambda v=variable: tf.identity(v.value))
            variable.assign(strategy.reduce("MEAN", local, axis=None))

    def agree(flag: bool) -> bool:
        value = strategy.run(lambda: tf.constant(float(flag)))
        return bool(strategy.reduce("SUM", value, axis=None) > 0)  # any worker asked to stop

    callback_list.on_train_begin()
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        loss_sum = hit_sum = seen = 0.0
        for i in range(len(train_seq)):
            batch = train_seq[i]
            if len(batch) == 2:
                batch = (*batch, np.ones(len(batch[0]), np.float32))
            x, y, weight = _share(batch, worker=worker, n_workers=n_workers)
            loss, hits = train_step(tf.constant(x), tf.constant(y, tf.float32), tf.constant(weight, tf.float32),
                                    tf.constant(float(len(batch[0]))))
            loss_sum, hit_sum, seen = loss_sum + float(loss), hit_sum + float(hits), seen + len(batch[0])
        train_seq.on_epoch_end()
        average_statistics()
        valid = _local_scores(model, valid_seq)
        logs = {"loss": loss_sum / seen, "accuracy": hit_sum / seen,
                "val_loss": valid["loss"], "val_accuracy": valid["accuracy"]}
        callback_list.on_epoch_end(epoch, logs)
        if agree(bool(model.stop_training)):
            break
    callback_list.on_train_end()
