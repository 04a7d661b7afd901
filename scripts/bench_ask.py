"""Time `ask` over 20 questions on an ingested index and print p50/p95 (run after `rag ingest`)."""

from __future__ import annotations

import statistics
import time

from rag.config import load_settings
from rag.evaluation.metrics import percentile
from rag.pipeline import Pipeline

QUESTIONS = [
    "Var hölls Socialchefsdagarna 2023?",
    "Vad kostar ett pass på Liseberg?",
    "Vad är Huset i Nordmalings kommun?",
    "Hur många medlemmar deltog i FSS workshop om äldreomsorgslag?",
    "Vem är ordförande i FSS?",
    "Vad sa Olivia Wigzell om tystnadskultur?",
    "Vilka myndigheter ingår i Rådet för styrning med kunskap?",
    "Vad är första linjens socialtjänst?",
    "När träffas FSS första linjen-nätverk 2024?",
    "Vad kan socialtjänsten lära av Yoda?",
    "Vad betyder tillit för socialtjänsten?",
    "Vem är Georgia Chimbani?",
    "Hur många invånare har Nordmaling?",
    "Vad tyckte panelen om framtidens socialtjänst?",
    "Where were Socialchefsdagarna 2023 held?",
    "What is the house model in Nordmaling?",
    "Vilka rum finns i huset?",
    "Vad är eHälsomyndighetens mål för 2025?",
    "Vem vann fotbolls-VM 2022?",
    "Var hölls Socialchefsdagarna 2022?",
]


def main() -> None:
    """Warm up once, then time every question and print the figures."""
    pipeline = Pipeline(load_settings())
    began = time.perf_counter()
    pipeline.ask(QUESTIONS[0])
    print(
        f"first ask (loads index and word weights): {(time.perf_counter() - began) * 1000:.0f} ms"
    )
    timings = []
    for question in QUESTIONS:
        began = time.perf_counter()
        pipeline.ask(question)
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    p95 = percentile(timings, 0.95)
    print(
        f"ask over {len(timings)} questions: p50 {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
