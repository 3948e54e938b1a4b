"""Compiled loops without AutoGraph.

``tf.function`` converts Python control flow to graph ops with AutoGraph, which
re-parses and rewrites the source of every function the traced code calls: the loop,
the objective, the transforms, the spectral twin, the Keras layers. For a dream that
is most of its first call (3.5 s of a 4.6 s trace in a profile of the CLI's default
dream). The compiled loops here have no tensor-dependent Python control flow except
their step loop, so they are traced with ``autograph=False`` and write that loop with
:func:`repeat`; the ops, and so the results, are the same.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["compile_graph", "repeat"]


def compile_graph(*, input_signature):
    """``tf.function`` with ``input_signature`` and AutoGraph off (see the module docstring)."""
    return tf.function(input_signature=input_signature, autograph=False)


def repeat(steps, body, state):
    """``state = body(i, *state)`` for ``i`` in ``0 .. steps - 1``, as one graph loop.

    Parameters
    ----------
    steps : scalar tf.Tensor [dtype=int32]
    body : callable
        ``(i, *state) -> tuple`` of the same structure and dtypes as ``state``.
    state : tuple
        Tensors and ``tf.TensorArray`` s carried from step to step.

    Returns
    -------
    state : tuple
        After the last step (``state`` itself when ``steps <= 0``).
    """
    def step(i, *carried):
        return (i + 1, *body(i, *carried))

    return tuple(tf.while_loop(lambda i, *_: i < steps, step, (tf.constant(0), *state))[1:])
