"""Audio front end throughput on this machine (issue 2).

Encode: log-mel segments/s with librosa (``audio.encode``, batched) and with the
TensorFlow twin (``layers.LogMelSpectrogram``, batched, compiled).
Decode: Griffin-Lim segments/s, batched (``audio.decode``: one NNLS + one batched
Griffin-Lim) versus one ``librosa.feature.inverse.mel_to_audio`` call per segment (the
dissertation's way). Audio: the bundled real instrument notes, cut with a 0.25 s hop.

Usage: python benchmarks/bench_frontend.py [--segments 64] [--gl-iters 32]
"""

import argparse

import numpy as np

from _common import environment, timed, write_result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segments", type=int, default=64)
    ap.add_argument("--gl-iters", type=int, default=32)
    ap.add_argument("--preset", default="default")
    args = ap.parse_args()

    import librosa
    import tensorflow as tf

    from auditory_deepdream.audio import EXAMPLE_CLIPS, decode, encode, example_clip, load_audio, segment
    from auditory_deepdream.layers import LogMelSpectrogram
    from auditory_deepdream.settings import AudioSettings

    s = AudioSettings.preset(args.preset)
    segs = np.concatenate([segment(load_audio(example_clip(n), settings=s), settings=s, hop_seconds=0.25)
                           for n in EXAMPLE_CLIPS])
    segs = np.resize(segs, (args.segments, s.segment_samples)).astype(np.float32)
    n = len(segs)

    layer = LogMelSpectrogram(s)
    tf_encode = tf.function(lambda y: layer(y), reduce_retracing=True)
    t_lib = timed(lambda: encode(segs, settings=s))
    t_tf = timed(lambda: tf_encode(tf.constant(segs)).numpy())

    mel = encode(segs, settings=s)
    n_dec = min(n, 16)
    t_batched = timed(lambda: decode(mel[:n_dec], settings=s, n_iter=args.gl_iters, seed=0), repeats=1)

    def per_segment():
        for m in mel[:n_dec]:
            librosa.feature.inverse.mel_to_audio(
                librosa.db_to_power(m), sr=s.sample_rate, n_fft=s.n_fft, hop_length=s.hop_length,
                win_length=s.win_length, fmin=s.fmin, fmax=s.mel_fmax, n_iter=args.gl_iters)

    t_per = timed(per_segment, repeats=1)
    result = {
        "audio": "bundled FluidR3 notes (cello C3, flute A4, piano E4), 1 s segments, 0.25 s hop",
        "settings": s.to_dict(),
        "threads": {"tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads()},
        "encode": {
            "segments": n,
            "librosa_segments_per_s": n / t_lib["median_s"],
            "tf_layer_segments_per_s": n / t_tf["median_s"],
            "tf_over_librosa": t_lib["median_s"] / t_tf["median_s"],
        },
        "decode": {
            "segments": n_dec,
            "griffin_lim_iters": args.gl_iters,
            "batched_segments_per_s": n_dec / t_batched["median_s"],
            "mel_to_audio_per_segment_segments_per_s": n_dec / t_per["median_s"],
            "batched_over_per_segment": t_per["median_s"] / t_batched["median_s"],
        },
        "env": environment(),
    }
    write_result("frontend", result)


if __name__ == "__main__":
    main()
