"""Framing text in the question's language. Quoted source text is never translated."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "from_sources": "From {n} source(s):",
        "sources": "Sources",
        "checklist": "{stage} checklist ({count} items)",
        "checklist_module": "{stage} checklist for module {module} ({count} items)",
        "cases": "Customer proof ({n} case(s)):",
        "value": "What to pitch, from our playbooks:",
        "position": "Where we stand, from our playbooks:",
        "dont_know": "I don't know from our sources.",
        "closest_quotes": "Our sources don't say this exactly; the closest they come:",
        "gap_recorded": "The question was recorded as a knowledge gap for the content owners.",
        "stale": "⚠ {title} is past its review date (verified {verified}, review every {days} days): check with {owner}.",
        "stale_flag": "stale",
        "verified": "verified",
        "size": "Size",
        "modules": "Modules",
        "metrics": "Metrics",
        "quote": "Customer quote",
        "metric": "Metric",
        "before": "Before",
        "after": "After",
        "change": "Change",
        "period": "Period",
        "no_checklist": "No checklist items found for stage {stage}.",
        "survey": "Survey",
        "go_live": "Go-live",
        "training": "Training",
        "acceptance": "Acceptance",
        "catalog": "What our knowledge base holds ({n} documents):",
        "catalog_playbook": "Value playbooks, by customer segment",
        "catalog_stage_guide": "Implementation stage guides, in order",
        "catalog_case": "Customer cases, by industry",
        "no_catalog": "There is nothing in the knowledge base you can see here yet.",
        "greeting": "Hi! Ask me about our value playbooks, implementation stage guides or customer cases; I answer from the sources, with citations.",
        "welcome": "You're welcome! Ask again any time.",
    },
    "zh": {
        "from_sources": "根据 {n} 份资料：",
        "sources": "来源",
        "checklist": "{stage}清单（共 {count} 项）",
        "checklist_module": "{stage}清单 · 模块 {module}（共 {count} 项）",
        "cases": "客户案例（{n} 个）：",
        "value": "推荐讲法（摘自价值手册）：",
        "position": "我们的立场与边界（摘自价值手册）：",
        "dont_know": "资料里没有找到答案（I don't know from our sources）。",
        "closest_quotes": "资料里没有直接说到这一点，最接近的内容如下：",
        "gap_recorded": "该问题已记录为知识缺口，内容负责人会跟进。",
        "stale": "⚠ 《{title}》已过复核期（最近核实 {verified}，每 {days} 天复核一次），请向 {owner} 确认。",
        "stale_flag": "已过期",
        "verified": "核实于",
        "size": "规模",
        "modules": "模块",
        "metrics": "指标",
        "quote": "客户原话",
        "metric": "指标",
        "before": "之前",
        "after": "之后",
        "change": "变化",
        "period": "周期",
        "no_checklist": "没有找到 {stage} 阶段的清单项。",
        "survey": "调研",
        "go_live": "上线",
        "training": "培训",
        "acceptance": "验收",
        "catalog": "知识库里的资料（共 {n} 份）：",
        "catalog_playbook": "价值手册（按客户类型）",
        "catalog_stage_guide": "实施阶段指南（按顺序）",
        "catalog_case": "客户案例（按行业）",
        "no_catalog": "这里还看不到知识库里的资料。",
        "greeting": "你好！价值手册、实施阶段指南、客户案例相关的问题都可以问我，我会引用原文并注明出处。",
        "welcome": "不客气，有问题随时问我。",
    },
}


def localized(tables: dict[str, dict[str, str]], lang: str, key: str, **values: object) -> str:
    """A string from per-language tables (English when the language has none), filled in."""
    table = tables.get(lang, tables["en"])
    return table[key].format(**values) if values else table[key]


def label(lang: str, key: str, **values: object) -> str:
    return localized(LABELS, lang, key, **values)
