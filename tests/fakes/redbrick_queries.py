"""The GraphQL operations redbrick-sdk sends for `get_project()` and `create_datapoints()`, verbatim.

Extracted from redbrick-sdk 2.28.7 and 2.35.4 (``redbrick/repo/project.py``, ``redbrick/repo/upload.py``) with
whitespace collapsed; the fake answers exactly these texts (whitespace aside) and nothing else. Each operation
maps to the texts the releases send: 2.35 renamed the project and stage lookups and asks for more taxonomy fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse, print_ast

SDK_OPERATIONS: dict[str, tuple[str, ...]] = {
    "createDatapointSDK": (
        (
            "mutation createDatapointSDK( $orgId: UUID! $workspaceId: UUID $projectId: UUID $items: "
            "[String!]! $heatMaps: [HeatMapInput!] $transforms: [TransformInput!] $centerline: "
            "[CenterlineInput!] $name: String! $storageId: UUID! $labelsData: String $labelsDataPath: String "
            "$labelsMap: [LabelMapInput] $seriesInfo: [SeriesInfoInput!] $metaData: String $isGroundTruth: "
            "Boolean! $preAssign: String $priority: Float $attributes: JSONString ) { createDatapoint( orgId:"
            " $orgId workspaceId: $workspaceId projectId: $projectId items: $items heatMaps: $heatMaps "
            "transforms: $transforms centerline: $centerline name: $name storageId: $storageId labelsData: "
            "$labelsData labelsDataPath: $labelsDataPath labelsMap: $labelsMap seriesInfo: $seriesInfo "
            "metaData: $metaData isGroundTruth: $isGroundTruth preAssign: $preAssign priority: $priority "
            "attributes: $attributes ) { dpId taskId taskIds } }"
        ),
    ),
    "getLabelStorageSDK": (
        (
            "query getLabelStorageSDK($orgId: UUID!, $projectId: UUID!) { getLabelStorage(orgId: $orgId, "
            "projectId: $projectId) { storageId path } }"
        ),
    ),
    "getOrgSDK": (
        (
            "query getOrgSDK($orgId: UUID!) { organization(orgId: $orgId){ name orgId } }"
        ),
    ),
    "getProjectSDK": (
        (
            "query getProjectSDK($orgId: UUID!, $projectId: UUID!) { project(orgId: $orgId, projectId: "
            "$projectId) { orgId projectId name desc status tdType taxonomy { orgId name version createdAt "
            "categories { name children { name classId disabled children { name classId disabled children { "
            "name classId disabled children { name classId disabled children { name classId disabled children"
            " { name classId disabled } } } } } } } attributes { name attrType whitelist disabled } "
            "taskCategories { name children { name classId disabled children { name classId disabled children"
            " { name classId disabled children { name classId disabled children { name classId disabled "
            "children { name classId disabled } } } } } } } taskAttributes { name attrType whitelist disabled"
            " } colorMap { name color classid trail taskcategory } archived isNew taxId studyClassify { name "
            "attrType attrId options { name optionId color archived } archived parents hint defaultValue "
            "minValue maxValue stepValue } seriesClassify { name attrType attrId options { name optionId "
            "color archived } archived parents hint defaultValue minValue maxValue stepValue } "
            "instanceClassify { name attrType attrId options { name optionId color archived } archived "
            "parents hint defaultValue minValue maxValue stepValue } objectTypes { category classId labelType"
            " attributes { name attrType attrId options { name optionId color archived } archived parents "
            "hint defaultValue minValue maxValue stepValue } color archived parents hint } } projectUrl "
            "createdAt updatedAt consensusSettings { enabled } workspace { workspaceId } stages { stageName "
            "brickName stageConfig routing { ...on NoRouting { placeholder } ...on NextRouting { "
            "nextStageName } ...on MultiRouting { stageNames } ...on BooleanRouting { passed failed } ...on "
            "FeedbackRouting { feedbackStageName } } } } }"
        ),
    ),
    "getStagesSDK": (
        (
            "query getStagesSDK($orgId: UUID!, $projectId: UUID!) { stages(orgId: $orgId, projectId: "
            "$projectId) { stageName brickName stageConfig routing { ...on NoRouting { placeholder } ...on "
            "NextRouting { nextStageName } ...on MultiRouting { stageNames } ...on BooleanRouting { passed "
            "failed } ...on FeedbackRouting { feedbackStageName } } } }"
        ),
    ),
    "getTaxonomySDK": (
        (
            "query getTaxonomySDK($orgId: UUID!, $taxId: UUID, $name: String) { taxonomy(orgId: $orgId, "
            "taxId: $taxId, name: $name) { orgId name version createdAt categories { name children { name "
            "classId disabled children { name classId disabled children { name classId disabled children { "
            "name classId disabled children { name classId disabled children { name classId disabled } } } } "
            "} } } attributes { name attrType whitelist disabled } taskCategories { name children { name "
            "classId disabled children { name classId disabled children { name classId disabled children { "
            "name classId disabled children { name classId disabled children { name classId disabled } } } } "
            "} } } taskAttributes { name attrType whitelist disabled } colorMap { name color classid trail "
            "taskcategory } archived isNew taxId studyClassify { name attrType attrId options { name optionId"
            " color archived } archived parents hint defaultValue } seriesClassify { name attrType attrId "
            "options { name optionId color archived } archived parents hint defaultValue } instanceClassify {"
            " name attrType attrId options { name optionId color archived } archived parents hint "
            "defaultValue } objectTypes { category classId labelType attributes { name attrType attrId "
            "options { name optionId color archived } archived parents hint defaultValue } color archived "
            "parents hint } } }"
        ),
        (
            "query getTaxonomySDK($orgId: UUID!, $taxId: UUID, $name: String) { taxonomy(orgId: $orgId, "
            "taxId: $taxId, name: $name) { orgId name version createdAt categories { name children { name "
            "classId disabled children { name classId disabled children { name classId disabled children { "
            "name classId disabled children { name classId disabled children { name classId disabled } } } } "
            "} } } attributes { name attrType whitelist disabled } taskCategories { name children { name "
            "classId disabled children { name classId disabled children { name classId disabled children { "
            "name classId disabled children { name classId disabled children { name classId disabled } } } } "
            "} } } taskAttributes { name attrType whitelist disabled } colorMap { name color classid trail "
            "taskcategory } archived isNew taxId studyClassify { name attrType attrId options { name optionId"
            " color archived } archived parents hint defaultValue minValue maxValue stepValue } "
            "seriesClassify { name attrType attrId options { name optionId color archived } archived parents "
            "hint defaultValue minValue maxValue stepValue } instanceClassify { name attrType attrId options "
            "{ name optionId color archived } archived parents hint defaultValue minValue maxValue stepValue "
            "} objectTypes { category classId labelType attributes { name attrType attrId options { name "
            "optionId color archived } archived parents hint defaultValue minValue maxValue stepValue } color"
            " archived parents hint } } }"
        ),
    ),
    "sdkGetProjectNameSDK": (
        (
            "query sdkGetProjectNameSDK($orgId: UUID!, $projectId: UUID!) { project(orgId: $orgId, projectId:"
            " $projectId) { orgId projectId name desc status tdType taxonomy { name } projectUrl createdAt "
            "consensusSettings { enabled } workspace { workspaceId } } }"
        ),
    ),
    "sdkGetStagesSDK": (
        (
            "query sdkGetStagesSDK($orgId: UUID!, $projectId: UUID!) { stages(orgId: $orgId, projectId: "
            "$projectId) { stageName brickName stageConfig routing { ...on NoRouting { placeholder } ...on "
            "NextRouting { nextStageName } ...on MultiRouting { stageNames } ...on BooleanRouting { passed "
            "failed } ...on FeedbackRouting { feedbackStageName } } } }"
        ),
    ),
    "validateAndConvertToImportFormatSDK": (
        (
            "query validateAndConvertToImportFormatSDK( $original: String! $convert: Boolean $storageId: UUID"
            " ) { validateAndConvertToImportFormat( original: $original convert: $convert storageId: "
            "$storageId ) { isValid error converted } }"
        ),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Operation:
    """One of the SDK's operations, parsed: its name, root field, declared variables and selection."""

    name: str
    field: str
    variables: dict[str, str]
    selection: SelectionSetNode | None


def _parse(text: str) -> Operation:
    definition = parse(text).definitions[0]
    assert isinstance(definition, OperationDefinitionNode) and definition.name is not None
    root = definition.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    declared = {d.variable.name.value: print_ast(d.type) for d in definition.variable_definitions}
    return Operation(definition.name.value, root.name.value, declared, root.selection_set)


BY_TEXT: dict[str, Operation] = {text: _parse(text) for texts in SDK_OPERATIONS.values() for text in texts}
"""Every accepted text (whitespace collapsed) -> its parsed operation."""


def select(value: Any, selection: SelectionSetNode | None) -> Any:
    """``value`` cut down to the fields ``selection`` asks for, as a GraphQL server answers.

    Inline fragments (``...on NextRouting { nextStageName }``) take the fields the object has.
    """
    if selection is None or value is None:
        return value
    if isinstance(value, list):
        return [select(entry, selection) for entry in value]
    answer: dict[str, Any] = {}
    for node in selection.selections:
        if isinstance(node, FieldNode):
            answer[node.name.value] = select(value.get(node.name.value), node.selection_set)
        elif isinstance(node, InlineFragmentNode):
            fields = {f.name.value for f in node.selection_set.selections if isinstance(f, FieldNode)}
            if fields & set(value):
                answer.update(select(value, node.selection_set))
    return answer
