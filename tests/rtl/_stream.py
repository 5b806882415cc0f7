"""Stream handshakes for amaranth.sim testbenches (``lib.stream`` valid/ready)."""

__all__ = ["stream_put", "stream_get"]


async def stream_put(ctx, stream, payload):
    """Offer ``payload`` on ``stream`` until it is accepted (one handshake), then drop valid."""
    ctx.set(stream.valid, 1)
    ctx.set(stream.payload, payload)
    await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def stream_get(ctx, stream):
    """Accept one payload from ``stream`` and return it with the cycle count waited."""
    ctx.set(stream.ready, 1)
    payload, = await ctx.tick().sample(stream.payload).until(stream.valid)
    ctx.set(stream.ready, 0)
    return payload
