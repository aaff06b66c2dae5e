/**
 * Every count the benchmarks use, pinned here so two runs do the same work. Times are in milliseconds. A row's
 * headline number is the median of its runs; ours and the baseline are measured alternately in the same run.
 */
export const SETTINGS = {
  gateway: {
    /** Calls of each kind (MCP 2026, MCP 2025, REST, SDK) before timing starts. */
    warmup: 15,
    runs: 5,
    callsPerRun: 30,
    /** The small product photo (the upstream answers in a few ms: our own overhead shows as a ratio). */
    smallImage: { width: 200, height: 160 },
    /** The realistic case: a textured (noisy, detailed) 1000x800 JPEG, where the overhead is reported in ms. */
    texturedImage: { width: 1000, height: 800 },
    /** Targets of issue 17: ours ÷ direct SDK on the small image, and ours − direct on the textured one. */
    smallRatioTarget: 1.5,
    /** The textured image's upstream takes ~100-800 ms here: fewer calls (its time is taken out of each sample). */
    textured: { warmup: 3, runs: 5, callsPerRun: 8 },
    texturedOverheadTargetMs: 3,
    /** Issue 23: a paid MCP 2026-07-28 tools/call adds at most this over the same REST call, small image, p50. */
    mcp2026OverRestTargetMs: 2,
  },
  throughput: {
    connections: 32,
    /** One-use tokens spent warming up (and measuring the rate that sizes the first run). */
    warmupTokens: 2_000,
    runs: 3,
    /** Each run presents about this long's worth of tokens at the rate of the run before; it ends when all are answered. */
    runMs: 4_000,
    /** Every n-th token is presented a second time at once, on another connection: a double-spend attempt. */
    replayEvery: 10,
    baselineRunMs: 3_000,
  },
  verification: {
    warmup: 200,
    runs: 5,
    perRun: 400,
  },
  async: {
    /** Job durations (queuing + processing) spread evenly over this range, one job each, all at once. */
    jobCount: 24,
    shortestJobMs: 1_000,
    longestJobMs: 5_000,
    /** One job of this length, run beside the others, counts the polls of a long job. */
    longJobMs: 30_000,
    /** What a plain client does without our backoff: poll every second. */
    baselineIntervalMs: 1_000,
  },
  localModel: {
    side: 1024,
    /** Composites with known alpha; the first run of each model is a warm-up and is not timed. */
    composites: 5,
    /** The same comparison again on smaller composites (both models still infer at 1024 internally). */
    smallSide: 512,
    smallComposites: 5,
    /** The person model (MediaPipe selfie) on one generated person: warm-up calls, then timed calls. */
    person: { side: 512, warmup: 1, runs: 5 },
    /** RefineMask (guided filter) on one soft-edged product with a coarse mask. */
    refine: { side: 1024, warmup: 1, runs: 3 },
  },
  coldStart: {
    warmup: 1,
    runs: 9,
  },
  memory: {
    /** Settle time before reading idle RSS. */
    settleMs: 1_500,
    /** RSS is sampled this often while the large call runs (VmHWM gives the true peak). */
    sampleMs: 25,
  },
  localMemory: {
    /** The largest image any Action takes (hd-general-segmentation), as the embedded model serves it. */
    side: 10_000,
    /** Idle RSS is read this long after the call: past the default IMAGESEG_LOCAL_IDLE_SECONDS (120). */
    idleAfterMs: 180_000,
  },
  mcpBodies: {
    /** Unpaid tools/call bodies sent at once, each this large (a 37 MB image as base64), to /mcp and to REST. */
    concurrent: 8,
    bodyBytes: 50_000_000,
  },
} as const;
