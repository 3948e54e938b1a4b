"""Compiled loops without AutoGraph."""

import numpy as np
import pytest
import tensorflow as tf

from auditory_deepdream.graph_loop import compile_graph, repeat


@compile_graph(input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.int32)])
def _doubling(x, steps):
    def step(i, x, history):
        return 2.0 * x, history.write(i, tf.reduce_sum(x))

    history = tf.TensorArray(tf.float32, size=steps)
    x, history = repeat(steps, step, (x, history))
    return x, history.stack()


def test_repeat_runs_the_body_steps_times_in_order():
    x, history = _doubling(tf.constant([1.0, 2.0]), tf.constant(3))
    np.testing.assert_array_equal(x.numpy(), [8.0, 16.0])
    np.testing.assert_array_equal(history.numpy(), [3.0, 6.0, 12.0])


def test_zero_steps_return_the_state_unchanged():
    x, history = _doubling(tf.constant([1.0, 2.0]), tf.constant(0))
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    assert history.numpy().shape == (0,)


def test_compile_graph_leaves_python_control_flow_alone():
    """AutoGraph is off: a Python ``if`` on a tensor is an error, not silently converted."""
    @compile_graph(input_signature=[tf.TensorSpec([], tf.float32)])
    def branchy(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(TypeError):  # OperatorNotAllowedInGraphError
        branchy(tf.constant(1.0))
