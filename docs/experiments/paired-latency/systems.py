"""Ours and the e5 tutorial baseline on the seeds, with the held-out answerable questions.

Shared by the scripts here. Run them from the repo root after `rag ingest`; the
baseline's index is built once under /tmp/paired-latency. Env settings (e.g.
RAG_EMBEDDING_QUERY_ENGINE=onnx-int8) apply to ours; its query cache is off.
"""

import json
from pathlib import Path

from rag.bench.baseline import TutorialBaseline, peer_model
from rag.config import Settings
from rag.pipeline import Pipeline

WORK = Path("/tmp/paired-latency")
settings = Settings(query_cache_size=0)
ours = Pipeline(settings)
ours.warm_up()
peer = TutorialBaseline(WORK, peer_model("e5", settings.model_cache_dir))
if (WORK / "done").exists():
    peer.open(settings.seeds_dir)
else:
    peer.ingest(settings.seeds_dir)
    (WORK / "done").touch()
items = [json.loads(line) for line in Path("eval/questions.jsonl").read_text().splitlines()]
questions = [i["question"] for i in items if i["kind"] != "unanswerable"]
