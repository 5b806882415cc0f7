"""Views of interleaved block RAMs for simulations (banked ring buffers, lane state)."""

__all__ = ["Interleaved"]


class Interleaved:
    """Rows ``n`` of block RAMs that interleave them: row ``n`` is row ``n div k`` of RAM
    ``n mod k`` (``k`` RAMs); for simulations, which read ``view[n]``.

    Parameters
    ----------
    rams : list of MemoryData
        The RAMs, in interleaving order.
    stride : int
        Rows of each RAM per interleaved unit (1: row by row).
    """

    def __init__(self, rams, stride: int = 1):
        self.rams = list(rams)
        self.stride = stride

    def __getitem__(self, n):
        unit, offset = divmod(n, self.stride)
        k = len(self.rams)
        return self.rams[unit % k][(unit // k) * self.stride + offset]
