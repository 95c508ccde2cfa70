"""Helper for test_train.py (not a test itself).

Under ``torchrun --nproc_per_node=2`` it trains with DDP (gloo, CPU); alone with ``--reference``
it trains one process whose every batch is the union of what the two ranks see at that step.
Afterwards each process saves its parameters as ``rank{N}.safetensors`` in the run directory.

    torchrun --standalone --nproc_per_node=2 tests/ddp_worker.py CORPUS OUT
    python tests/ddp_worker.py CORPUS OUT --reference

With ``--conformer`` the model is a small Conformer-CTC instead of DS1 (its batch norms keep
per-process statistics, so only the replicas' equality is checked against it).
"""

import sys
from pathlib import Path

from safetensors.torch import save_file

from dslearn.data import BucketingBatchSampler, read_manifest, write_manifest
from dslearn.train import TrainConfig, Trainer

UTTERANCES = 16  # 4 batches of 4 per epoch: every rank's batch has the same size
BATCH = 4


class UnionSampler:
    """The batches of all ``samplers`` at each step, concatenated (the global batch)."""

    def __init__(self, samplers):
        self.samplers = samplers

    def set_epoch(self, epoch):
        for s in self.samplers:
            s.set_epoch(epoch)

    def load_state_dict(self, state):
        for s in self.samplers:
            s.load_state_dict(state)

    def __iter__(self):
        for batches in zip(*self.samplers):
            yield [i for batch in batches for i in batch]


def main() -> None:
    corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
    reference = "--reference" in sys.argv
    model = dict(preset="ds1", model={"dense_hidden": 64, "rnn_hidden": 64, "dropout": 0.0})
    if "--conformer" in sys.argv:
        small = {"d_model": 32, "attention_heads": 2, "ffn_dim": 64, "encoder_layers": 1}
        model = dict(preset="conformer-tiny", model={**small, "conv_kernel": 3})
    out.mkdir(parents=True, exist_ok=True)
    subset = out / "train16.jsonl"
    write_manifest(subset, read_manifest(corpus / "train.jsonl")[:UTTERANCES])
    cfg = TrainConfig(
        train=str(subset),
        out=str(out),
        **model,  # DS1 has no batch norm, whose statistics are per process under DDP
        max_steps=6,
        batch_seconds=1e6,
        max_batch_size=BATCH,
        lr=1e-3,
        warmup_steps=1,
        spec_augment=False,
        speed_perturb=(),
        log_every=1,
        eval_every=1000,
        tensorboard=False,
        progress=False,
        device="cpu",
        precision="fp32",  # the check is on gradient averaging; bf16 rounding would blur it
        threads=1,
    )
    trainer = Trainer(cfg)
    if reference:
        durations = [trainer.train_set.durations[i] for i in trainer.keep]
        trainer.sampler = UnionSampler(
            [
                BucketingBatchSampler(
                    durations,
                    cfg.batch_seconds,
                    max_batch_size=BATCH,
                    num_replicas=2,
                    rank=rank,
                    seed=cfg.seed,
                )
                for rank in (0, 1)
            ]
        )
    trainer.fit()
    state = {k: v.contiguous() for k, v in trainer.model.state_dict().items()}
    save_file(state, str(out / f"rank{trainer.rank}.safetensors"))


if __name__ == "__main__":
    main()
