// MSM and FFT timings in ffjavascript (snarkjs's engine), driven by benchmarks/kernels.py.
//
// Run by kernels.py as `node benchmarks/_ffjs_msm.js` with NODE_PATH set to the peers'
// node_modules (ZKMARGIN_NODE_PEERS). It builds the BN254 curve once with buildBn128()
// (default threads: one worker per core, as snarkjs does), prints one JSON line
// {"ready": true, ...} and then answers one JSON request per stdin line with one JSON
// line on stdout:
//
//   {"cmd": "msm", "group": "G1"|"G2", "bases": path, "scalars": path, "out": path|null,
//    "warmup": bool, "repeat": k}
//       bases: n affine points, LEM (x, y Montgomery little-endian; G2 coordinates as
//       c0, c1), exactly the buffer multiExpAffine reads from a .zkey; scalars: n 32-byte
//       little-endian standard-form values (what snarkjs passes from a .wtns).
//       An untimed warm-up call if asked, then k timed calls of G.multiExpAffine; the
//       last result, converted with G.toAffine (LEM, infinity all zero), goes to `out`.
//   {"cmd": "fft", "input": path, "out": path|null, "inverse": bool, "warmup": bool, "repeat": k}
//       Fr.fft (Fr.ifft if inverse) on n Montgomery Fr elements (32 bytes each), as
//       snarkjs calls it; result (Montgomery, natural order) to `out` if given.
//   {"cmd": "quit"}
//
// The files of the last request are kept in memory: a request naming the same files
// again (kernels.py alternates one zkmargin and one ffjavascript call) does not re-read
// them. Replies: {"ok": true, "times": [seconds, ...]} or {"ok": false, "error": "..."}.
// Times are wall clock (process.hrtime) around each awaited call only.
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");
const { createRequire } = require("module");

// snarkjs pins its own ffjavascript (nested under snarkjs/node_modules when another peer
// wants a different version): resolve it the way snarkjs does, else fall back to the
// top-level one.
function loadFfjavascript() {
    let req = require;
    try {
        req = createRequire(require.resolve("snarkjs"));
    } catch (_err) {
        // snarkjs absent: use whatever ffjavascript NODE_PATH gives
    }
    const main = req.resolve("ffjavascript");
    let dir = path.dirname(main);
    while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) {
        dir = path.dirname(dir);
    }
    const version = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
    return { ffjs: req("ffjavascript"), version, dir };
}

// a fresh, unshared Uint8Array (as binfileutils hands snarkjs; Buffer.slice would be a
// view), kept while the same file is asked for again
const cache = new Map();
function readBuffer(file) {
    if (!cache.has(file)) {
        if (cache.size >= 2) cache.clear();
        cache.set(file, new Uint8Array(fs.readFileSync(file)));
    }
    return cache.get(file);
}

async function timed(fn, req) {
    let res = req.warmup === false ? null : await fn();
    const times = [];
    for (let i = 0; i < (req.repeat || 0); i++) {
        const t0 = process.hrtime.bigint();
        res = await fn();
        times.push(seconds(t0));
    }
    return { res, times };
}

function seconds(t0) {
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

function reply(obj) {
    process.stdout.write(JSON.stringify(obj) + "\n");
}

async function timeMsm(curve, req) {
    if (req.group !== "G1" && req.group !== "G2") throw new Error(`bad group ${req.group}`);
    const G = curve[req.group];
    const bases = readBuffer(req.bases);
    const scalars = readBuffer(req.scalars);
    const n = bases.byteLength / (G.F.n8 * 2);
    if (!Number.isInteger(n) || scalars.byteLength !== n * 32) {
        throw new Error(`sizes: ${bases.byteLength} bytes of bases, ${scalars.byteLength} of scalars`);
    }
    const { res, times } = await timed(() => G.multiExpAffine(bases, scalars), req);
    if (req.out && res) fs.writeFileSync(req.out, G.toAffine(res));
    return times;
}

async function timeFft(curve, req) {
    const Fr = curve.Fr;
    const input = readBuffer(req.input);
    const fft = req.inverse ? () => Fr.ifft(input) : () => Fr.fft(input);
    const { res, times } = await timed(fft, req);
    if (req.out && res) fs.writeFileSync(req.out, res);
    return times;
}

async function main() {
    const { ffjs, version, dir } = loadFfjavascript();
    const curve = await ffjs.buildBn128();
    reply({
        ready: true,
        ffjavascript: version,
        ffjavascript_dir: dir,
        node: process.version,
        concurrency: curve.tm.concurrency,
    });
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    for await (const line of rl) {
        if (!line.trim()) continue;
        let req;
        try {
            req = JSON.parse(line);
        } catch (err) {
            reply({ ok: false, error: `bad request: ${err.message}` });
            continue;
        }
        if (req.cmd === "quit") break;
        try {
            let times;
            if (req.cmd === "msm") times = await timeMsm(curve, req);
            else if (req.cmd === "fft") times = await timeFft(curve, req);
            else throw new Error(`unknown cmd ${req.cmd}`);
            reply({ ok: true, times });
        } catch (err) {
            reply({ ok: false, error: String((err && err.stack) || err) });
        }
    }
    rl.close();
    await curve.terminate();
}

main().then(
    () => process.exit(0),
    (err) => {
        process.stderr.write(String((err && err.stack) || err) + "\n");
        process.exit(1);
    },
);
