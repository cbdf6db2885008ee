import { displayBytes } from "@socklab/core";
import type { Multiplexer, MuxTransport } from "@socklab/multiplex";
import type { Output } from "../output.ts";

/**
 * Logs a multiplexer's events the way the tutorial's listing 3.15 prints them
 * ("connection from 127.0.0.1:40390", the Unix time on each idle tick), or as
 * JSON events with --json.
 *
 * @param mux The multiplexer.
 * @param out The command's output.
 * @param options `stats`: add a stats line to each idle tick (the lab).
 */
export function logMultiplexer(
  mux: Multiplexer,
  out: Output,
  options: { stats?: boolean; datagrams?: boolean } = {},
): void {
  mux.on("open", (c) =>
    out.event(
      "connection",
      { id: c.id, transport: c.transport, peer: c.peer, local: c.local },
      () =>
        c.transport === "tcp"
          ? `connection from ${c.peer} (#${c.id})`
          : `connection on ${c.local} (#${c.id})`,
    ),
  );
  mux.on("close", (c, reason) =>
    out.event(
      "close",
      {
        id: c.id,
        transport: c.transport,
        peer: c.peer,
        reason,
        bytesIn: c.bytesIn,
        bytesOut: c.bytesOut,
      },
      () =>
        `closed #${c.id} ${c.transport === "tcp" ? c.peer : c.local}: ${reason} (${c.bytesIn} bytes in, ${c.bytesOut} out)`,
    ),
  );
  mux.on("refused", (transport, peer) =>
    out.event(
      "refused",
      { transport, peer },
      () => `refused ${transport} ${peer}: connection limit reached`,
    ),
  );
  if (options.datagrams) {
    mux.on("datagram", (d) =>
      out.event(
        "datagram",
        {
          transport: d.transport,
          from: d.from ?? null,
          local: d.local,
          bytes: d.data.length,
          truncated: d.truncated,
        },
        () =>
          `${d.transport} datagram from ${d.from ?? "an unbound sender"} (${d.data.length} bytes): ${displayBytes(d.data)}`,
      ),
    );
  }
  mux.on("idle", () => {
    const time = Math.floor(Date.now() / 1000);
    if (options.stats) {
      const stats = mux.stats();
      const fields: Record<string, unknown> = { unixTime: time, stats };
      out.event("idle", fields, () => `${time}  ${statsLine(stats)}`);
    } else {
      out.event("idle", { unixTime: time }, String(time));
    }
  });
  mux.on("error", (err) => out.note(`socklab: ${err.message}`));
  // Drops are never silent: one summary line per second while they happen, even with --quiet.
  mux.on("dropped", (transport, growth, line) => {
    if (out.json) out.event("dropped", { transport, ...growth, line }, "");
    else out.note(`socklab: ${line}`);
  });
}

function statsLine(stats: ReturnType<Multiplexer["stats"]>): string {
  return (Object.entries(stats) as [MuxTransport, (typeof stats)[MuxTransport]][])
    .map(
      ([t, s]) =>
        `${t} ${s.open} open/${s.total} total, ${s.bytesIn}↓ ${s.bytesOut}↑${s.refused ? `, ${s.refused} refused` : ""}${s.dropped ? `, ${s.dropped} replies dropped` : ""}`,
    )
    .join(" | ");
}
