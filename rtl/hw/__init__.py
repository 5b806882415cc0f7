"""The hardware blocks of a node (``neuroaix.rtl.hw``): Amaranth components and their layouts.

Every module here describes hardware and imports only Amaranth, :mod:`neuroaix.numerics`,
:mod:`neuroaix.formats` and :mod:`neuroaix.rtl.params`; what simulates, generates,
synthesizes or measures these blocks lives in :mod:`neuroaix.rtl.harness`.
"""

__all__: list[str] = []
