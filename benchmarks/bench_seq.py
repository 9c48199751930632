"""Sequence-model training steps: autodiff vs PyTorch CPU, the same code in both libraries.

- LSTM language-model step: Embedding(65, 64), LSTM(64, 128), Linear(128, 65); sequence 32,
  batch 16, cross-entropy over every position, clip_grad_norm_(1.0), SGD.
- 2-layer character GPT: token + position embeddings (d_model 64), 2 pre-norm
  TransformerEncoderLayers (4 heads, feed-forward 256, no dropout) with a causal mask,
  LayerNorm, Linear; context 32, batch 16, AdamW.

Both libraries start from the same weights (autodiff's initialisation, loaded into PyTorch
through the state_dict) and train on the same batch. Figures are the minimum over several
repeats; each library is timed in a process of its own (see bench_nn.py for why).

    python benchmarks/bench_seq.py [--repeats 5] [--rounds 3] [--threads 1] [--kernels] [--cpu-time]

--kernels also times the LSTM op with its fused kernels against its numpy path, the
figures behind ``backends.MIN_SIZE['lstm_sequence_forward']`` (the kernels win at every size).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

# this checkout's autodiff and kernels, not an installed copy (the script's folder comes first on sys.path)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import autodiff  # noqa: E402
from timing import best_time, has_torch  # noqa: E402

VOCAB, STEPS, BATCH = 65, 32, 16


def layer_norm(lib):
    return lib.nn.LayerNorm


def lstm_model(lib):
    class LanguageModel(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(VOCAB, 64)
            self.lstm = lib.nn.LSTM(64, 128)
            self.head = lib.nn.Linear(128, VOCAB)

        def forward(self, tokens):                 # (T, B) -> (T, B, VOCAB)
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out)
    return LanguageModel()


def gpt_model(lib):
    class CharGPT(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = lib.nn.Embedding(VOCAB, 64)
            self.positions = lib.nn.Embedding(STEPS, 64)
            layer = lib.nn.TransformerEncoderLayer(64, 4, dim_feedforward=256, dropout=0.0, batch_first=True,
                                                   norm_first=True)
            self.blocks = lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.norm = layer_norm(lib)(64)
            self.head = lib.nn.Linear(64, VOCAB)
            mask = np.triu(np.full((STEPS, STEPS), -np.inf, dtype=np.float32), k=1)
            self.mask = lib.tensor(mask)
            self.where = lib.arange(STEPS)

        def forward(self, tokens):                 # (B, T) -> (B, T, VOCAB)
            x = self.tokens(tokens) + self.positions(self.where)
            return self.head(self.norm(self.blocks(x, mask=self.mask)))
    return CharGPT()


CASES = {
    "LSTM language model (embedding 64, hidden 128, seq 32, batch 16), CE, clip_grad_norm_, SGD": dict(
        model=lstm_model, shape=(STEPS, BATCH), steps=30,
        optimizer=lambda lib, params: lib.optim.SGD(params, lr=0.5), clip=True),
    "2-layer char GPT (d_model 64, 4 heads, context 32, batch 16), CE, AdamW": dict(
        model=gpt_model, shape=(BATCH, STEPS), steps=30,
        optimizer=lambda lib, params: lib.optim.AdamW(params, lr=3e-3), clip=False),
}


def make_step(lib, case):
    autodiff.manual_seed(0)
    reference = model = case["model"](autodiff)
    if lib is not autodiff:
        model = case["model"](lib)
        model.load_state_dict({k: lib.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    rng = np.random.default_rng(1)
    text = rng.integers(0, VOCAB, (case["shape"][0] + 1, case["shape"][1]) if case["shape"][0] == STEPS
                        else (case["shape"][0], case["shape"][1] + 1))
    if case["shape"][0] == STEPS:                   # time-major: predict the next row
        x, y = text[:-1], text[1:]
    else:
        x, y = text[:, :-1], text[:, 1:]
    X, Y = lib.tensor(x), lib.tensor(y.reshape(-1))
    opt = case["optimizer"](lib, model.parameters())
    criterion = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = criterion(model(X).reshape(-1, VOCAB), Y)
        loss.backward()
        if case["clip"]:
            lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    return step


def measure(lib_name, title, repeats, clock=time.perf_counter):
    if lib_name == "autodiff":
        lib = autodiff
    else:
        import torch as lib
    case = CASES[title]
    step = make_step(lib, case)
    first = float(step().item())
    for _ in range(4):
        step()
    seconds = best_time(step, case["steps"], repeats, clock)
    return seconds, first


KERNEL_SIZES = [(8, 1, 4, 8), (32, 16, 64, 128), (16, 64, 128, 256)]   # (T, B, input, hidden)


def kernel_table(repeats):
    """The LSTM op forward + backward, numpy path against the fused kernels (this process only)."""
    from autodiff import backends
    from autodiff.ops.recurrent import Recurrent
    rng = np.random.default_rng(0)
    print("LSTM layer op, forward + backward, float32: numpy path vs kernels.cpu.lstm_sequence_* "
          f"(min of {repeats} repeats)")
    for steps, batch, features, hidden in KERNEL_SIZES:
        x = autodiff.tensor(rng.standard_normal((steps, batch, features)).astype(np.float32), requires_grad=True)
        weights = [autodiff.tensor((rng.standard_normal(shape) * 0.1).astype(np.float32), requires_grad=True)
                   for shape in [(4 * hidden, features), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,)]]
        h0 = np.zeros((batch, hidden), np.float32)
        upstream = autodiff.tensor(np.ones((steps + 1, batch, 2 * hidden), np.float32))

        def run():
            Recurrent.apply(x, h0, h0, *weights, None, "LSTM", False, None).backward(upstream)
        seconds = {}
        for mode in ("numpy", "numba"):
            with backends.use(mode):
                run()
                seconds[mode] = best_time(run, 5, repeats)
        print(f"  T={steps:3d} B={batch:3d} I={features:4d} H={hidden:4d}   numpy {seconds['numpy'] * 1e3:8.3f} ms"
              f"   kernels {seconds['numba'] * 1e3:8.3f} ms   {seconds['numpy'] / seconds['numba']:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both: torch.set_num_threads, OPENBLAS_NUM_THREADS and NUMBA_NUM_THREADS")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of both libraries")
    parser.add_argument("--only", type=int, default=None, help="run only case N (0 or 1)")
    parser.add_argument("--kernels", action="store_true", help="also time the fused LSTM kernels against numpy")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time in process CPU time, not wall-clock time (for loaded, shared machines)")
    parser.add_argument("--measure", nargs=2, metavar=("LIB", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure and args.measure[0] == "kernels":
        kernel_table(args.repeats)
        return
    if args.measure:
        lib_name, index = args.measure
        if lib_name == "torch" and args.threads:
            import torch
            torch.set_num_threads(args.threads)
        clock = time.process_time if args.cpu_time else time.perf_counter
        print(json.dumps(measure(lib_name, list(CASES)[int(index)], args.repeats, clock)))
        return
    libs = ["autodiff"] + (["torch"] if has_torch() else [])
    for index, title in enumerate(CASES):
        if args.only is not None and index != args.only:
            continue
        print(f"{title}: min of {args.rounds} rounds x {args.repeats} repeats x {CASES[title]['steps']} steps, "
              "each library in its own process, the libraries alternating round by round")
        times, losses = {name: float("inf") for name in libs}, {}
        for _ in range(args.rounds):      # alternate, so that both see the same machine load
            for name in libs:
                command = [sys.executable, __file__, "--repeats", str(args.repeats), "--measure", name, str(index)]
                if args.threads:
                    command += ["--threads", str(args.threads)]
                if args.cpu_time:
                    command += ["--cpu-time"]
                env = dict(os.environ)
                if args.threads:      # (numpy's BLAS and Numba read these at import: set before the process starts)
                    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["NUMBA_NUM_THREADS"] = str(args.threads)
                seconds, losses[name] = json.loads(subprocess.run(command, capture_output=True, text=True, env=env,
                                                                  check=True).stdout.strip().splitlines()[-1])
                times[name] = min(times[name], seconds)
        for name in libs:
            print(f"  {name:9s} {times[name] * 1e3:9.3f} ms/step   first loss {losses[name]:.6f}")
        if "torch" in times:
            print(f"  ratio torch/autodiff: {times['torch'] / times['autodiff']:.2f}x")
    if args.kernels:          # in a process of its own too, with the same thread settings
        env = dict(os.environ)
        if args.threads:
            env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["NUMBA_NUM_THREADS"] = str(args.threads)
        command = [sys.executable, __file__, "--repeats", str(args.repeats), "--measure", "kernels", "0"]
        print(subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout, end="")


if __name__ == "__main__":
    main()
