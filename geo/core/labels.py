"""English and Chinese names of the registry's fields and of the words of the vocabulary, as one
table, so that people may write either (a CSV from Chinese Excel with ``名称,纬度,经度,容纳人数,
类别`` and ``紧急避难场所``, ``--type 消防``) and be answered in the language they wrote.

The keys are the words the code stores and compares (:mod:`geo.core.vocabulary`, the registry's
field names); each has an English label, a Chinese label (the one shown) and other Chinese names
people use for it. Shelter classes and supply items are not here: their names are data next to
their other figures, in the standards table (``name_en``, ``name_zh``) and the registry's item
catalogue. :func:`geo.core.names.resolve` reads a name against any of these tables.

The same English word can be two things (a ``fire`` team is 消防, a ``fire`` incident 火灾), so
every table belongs to one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.core.vocabulary import (
    HAZARD_TYPES,
    INCIDENT_STATUSES,
    INCIDENT_TYPES,
    SHELTER_STATUSES,
    TEAM_STATUSES,
    TEAM_TYPES,
)


@dataclass(frozen=True)
class Label:
    en: str
    zh: str
    also: tuple[str, ...] = ()  # other Chinese names accepted

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this key is known by, besides the key itself."""
        return (self.zh, *self.also, self.en)


LABELS: dict[str, dict[str, Label]] = {
    # Fields of the registry's layers (and the columns a file may hold for them).
    "fields": {
        "id": Label("id", "编号", ("ID", "代码")),
        "name": Label("name", "名称", ("名字", "场所名称")),
        "notes": Label("notes", "备注", ("说明",)),
        "source": Label("source", "来源", ("数据来源",)),
        "geometry": Label("geometry", "坐标", ("几何", "位置", "WKT")),
        "shelter_class": Label("shelter class", "类别", ("避难场所类别", "场所类别", "分类",
                                                        "类型")),
        "effective_area_m2": Label("effective area (m²)", "有效面积",
                                   ("有效避难面积", "有效面积(平方米)", "有效面积（平方米）",
                                    "有效面积(m²)", "有效面积（m²）")),
        "capacity_people": Label("capacity (people)", "容纳人数", ("可容纳人数", "容量")),
        "occupancy": Label("occupancy (people)", "已安置人数", ("当前人数", "在场人数")),
        "status": Label("status", "状态"),
        "facilities": Label("facilities", "设施", ("配套设施",)),
        "contact": Label("contact", "联系方式", ("联系人", "联系电话")),
        "depot": Label("depot", "仓库", ("仓库编号", "物资仓库")),
        "item": Label("item", "物资", ("物资名称", "品名")),
        "quantity": Label("quantity", "数量"),
        "unit": Label("unit", "单位"),
        "type": Label("type", "类型", ("类别", "种类")),
        "headcount": Label("headcount", "人数", ("队员人数",)),
        "equipment": Label("equipment", "装备", ("器材",)),
        "home_base": Label("home base", "驻地", ("驻地名称", "所属单位")),
        "turnout_s": Label("turnout time (s)", "出动时间（秒）",
                           ("出动时间(秒)", "出动时间", "出动准备时间")),
        "risk_level": Label("risk level (1-4)", "风险等级", ("危险等级",)),
        "radius_m": Label("radius (m)", "影响半径（米）", ("影响半径(米)", "影响半径", "半径")),
        "active": Label("active", "生效", ("是否生效", "当前生效")),
        "severity": Label("severity (1-4)", "严重程度", ("等级",)),
        "reported_at": Label("reported at", "报告时间", ("上报时间", "报警时间")),
        "needs": Label("needs", "需求"),
        "population": Label("population", "人口", ("人口数", "人数")),
        "floor_area_m2": Label("floor area (m²)", "建筑面积", ("住宅建筑面积",)),
    },
    "shelter_statuses": {
        "open": Label("open", "开放", ("开放中", "启用")),
        "closed": Label("closed", "关闭", ("已关闭", "未开放")),
        "full": Label("full", "已满", ("满员",)),
        "unsafe": Label("unsafe", "不安全", ("危险", "停用")),
    },
    "team_types": {
        "fire": Label("fire", "消防", ("消防队", "消防救援")),
        "medical": Label("medical", "医疗", ("医疗救护", "急救")),
        "search_rescue": Label("search and rescue", "搜救", ("搜索救援",)),
        "hazmat": Label("hazardous materials", "危化品处置", ("危化品", "危化", "危险化学品处置")),
        "water_rescue": Label("water rescue", "水上救援", ("水域救援",)),
        "police": Label("police", "公安", ("警察", "警务")),
        "volunteer": Label("volunteers", "志愿者", ("志愿队",)),
        "comprehensive": Label("comprehensive rescue", "综合救援", ("综合应急救援",)),
    },
    "team_statuses": {
        "available": Label("available", "可用", ("待命", "空闲")),
        "assigned": Label("assigned", "已指派", ("已分配",)),
        "en_route": Label("en route", "出动途中", ("途中", "赶赴途中")),
        "on_scene": Label("on scene", "在现场", ("到场", "已到场")),
        "returning": Label("returning", "返回中", ("返回",)),
        "off_duty": Label("off duty", "休息", ("不在岗", "下班")),
    },
    "hazard_types": {
        "chemical_plant": Label("chemical plant", "化工厂", ("化工企业",)),
        "fuel_station": Label("fuel station", "加油站"),
        "gas_storage": Label("gas storage", "储气站", ("燃气储存站", "储气库")),
        "industrial": Label("industrial area", "工业区", ("工业用地",)),
        "flood_zone": Label("flood zone", "洪涝区", ("洪水淹没区", "洪泛区")),
        "landslide": Label("landslide", "滑坡", ("山体滑坡", "地质灾害隐患点")),
        "dam": Label("dam", "水坝", ("大坝", "水库大坝")),
        "fire": Label("fire", "火灾", ("火灾隐患",)),
        "other": Label("other", "其他"),
    },
    "incident_types": {
        "fire": Label("fire", "火灾"),
        "flood": Label("flood", "洪涝", ("洪水",)),
        "earthquake": Label("earthquake", "地震"),
        "landslide": Label("landslide", "滑坡", ("山体滑坡",)),
        "hazmat": Label("hazardous materials", "危化品泄漏", ("危化品事故",)),
        "traffic": Label("traffic accident", "交通事故"),
        "medical": Label("medical emergency", "医疗急救", ("急病",)),
        "rescue": Label("rescue", "救援", ("被困救援",)),
        "other": Label("other", "其他"),
    },
    "incident_statuses": {
        "open": Label("open", "待处置", ("未处置",)),
        "dispatched": Label("dispatched", "已调派", ("已派遣", "已调度")),
        "closed": Label("closed", "已结案", ("已关闭", "已完成")),
    },
}
# The vocabularies above, to check that every word has its names.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "shelter_statuses": SHELTER_STATUSES, "team_types": TEAM_TYPES,
    "team_statuses": TEAM_STATUSES, "hazard_types": HAZARD_TYPES,
    "incident_types": INCIDENT_TYPES, "incident_statuses": INCIDENT_STATUSES}

def names(vocabulary: str) -> dict[str, tuple[str, ...]]:
    """The other names of each key of a vocabulary of :data:`LABELS`."""
    return {key: label.names for key, label in LABELS[vocabulary].items()}


def zh(vocabulary: str, key: str) -> str:
    """The Chinese label of ``key`` (the key itself where there is none)."""
    label = LABELS[vocabulary].get(key)
    return label.zh if label is not None else key
