"""Outputs of subworkflow and launch plan nodes in a local run.

The sandbox inlines such a node (its inner nodes are stored as `<node>-<inner id>`) and keeps
no row for the node itself; an admin reports the node with the outputs of the workflow it
called. Binding that workflow's outputs from the inner nodes' rows gives the same values, so
reproduction can compare the node as the admin shows it.
"""
from __future__ import annotations

from flyteidl.core import literals_pb2


def _key(ident) -> tuple:
    return (ident.project, ident.domain, ident.name, ident.version)


class InlinedOutputs:
    def __init__(self, workflows, plans, rows: dict[str, literals_pb2.LiteralMap]):
        """`workflows`: admin.WorkflowSpec list; `plans`: admin.LaunchPlan list; `rows`:
        {stored node id: outputs} of the local execution."""
        self._templates = {_key(t.id): t for spec in workflows
                           for t in [spec.template, *spec.sub_workflows]}
        self._plan_targets = {_key(p.id): p.spec.workflow_id for p in plans}
        self._rows = rows

    def _called_template(self, node):
        if node.WhichOneof("target") != "workflow_node":
            return None
        reference = node.workflow_node.WhichOneof("reference")
        ident = getattr(node.workflow_node, reference)
        if reference == "launchplan_ref":
            ident = self._plan_targets.get(_key(ident))
            if ident is None:
                return None
        return self._templates.get(_key(ident))

    def outputs(self, stored_id: str, node) -> literals_pb2.LiteralMap | None:
        """The node's outputs: its own row, else bound from the workflow it called."""
        if stored_id in self._rows:
            return self._rows[stored_id]
        template = self._called_template(node)
        if template is None:
            return None
        inner = {n.id: n for n in template.nodes}
        result = literals_pb2.LiteralMap()
        for binding in template.outputs:
            literal = self._bound(binding.binding, stored_id, inner)
            if literal is None:
                return None
            result.literals[binding.var].CopyFrom(literal)
        return result

    def _bound(self, data, prefix: str, inner) -> literals_pb2.Literal | None:
        kind = data.WhichOneof("value")
        if kind == "scalar":
            return literals_pb2.Literal(scalar=data.scalar)
        if kind == "collection":
            items = [self._bound(item, prefix, inner) for item in data.collection.bindings]
            if any(item is None for item in items):
                return None
            return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
        if kind == "map":
            out = literals_pb2.Literal(map=literals_pb2.LiteralMap())
            for name, item in data.map.bindings.items():
                literal = self._bound(item, prefix, inner)
                if literal is None:
                    return None
                out.map.literals[name].CopyFrom(literal)
            return out
        if kind == "promise" and data.promise.node_id in inner:
            outputs = self.outputs(f"{prefix}-{data.promise.node_id}", inner[data.promise.node_id])
            if outputs is not None and data.promise.var in outputs.literals:
                return outputs.literals[data.promise.var]
        return None  # bound to the called workflow's own inputs, or not produced
