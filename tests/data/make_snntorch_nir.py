"""Regenerate tests/data/snntorch.nir: a small snnTorch network exported by snnTorch to NIR.

Needs torch and snntorch (``pip install torch snntorch``), which the test environment does not
install; tests/test_nir.py reads the file this writes. Made with snntorch 1.0.0, torch 2.14
and nir 1.0.8: input (4) -> Linear with bias -> Synaptic (6, alpha 0.8, beta 0.9) -> Linear -> Leaky
(3, beta 0.95), thresholds 1, seed 7.
"""

import pathlib

import nir
import snntorch as snn
import torch
from snntorch.export_nir import export_to_nir

OUT = pathlib.Path(__file__).with_name("snntorch.nir")


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 6)
        self.lif1 = snn.Synaptic(alpha=torch.full((6,), 0.8), beta=torch.full((6,), 0.9),
                                 threshold=torch.ones(6))
        self.fc2 = torch.nn.Linear(6, 3, bias=False)
        self.lif2 = snn.Leaky(beta=torch.full((3,), 0.95), threshold=torch.ones(3))

    def forward(self, x):
        syn, mem = self.lif1.init_synaptic()
        mem2 = self.lif2.init_leaky()
        spk1, syn, mem = self.lif1(self.fc1(x), syn, mem)
        return self.lif2(self.fc2(spk1), mem2)


if __name__ == "__main__":
    torch.manual_seed(7)
    nir.write(OUT, export_to_nir(Net(), torch.zeros(4)))
    print(f"wrote {OUT}")
