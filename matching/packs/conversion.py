"""Making OpenCV Zoo's int8 ONNX files runnable by onnxruntime: block-quantised weights folded
to float32 (bit-identical to what a runtime computes), dangling graph inputs removed, the batch
dimension made dynamic."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np

Report = Callable[[str], None]
PackKind = Literal["sface", "insightface"]


def dequantize(
    x: np.ndarray,
    scale: np.ndarray,
    zero_point: np.ndarray | None,
    *,
    axis: int = 1,
    block_size: int = 0,
) -> np.ndarray:
    """ONNX DequantizeLinear (per-tensor, per-axis or blocked), computed the way runtimes do.

    The integer difference is exact before the single float multiply, so the folded weights are
    bit-identical to what a runtime would compute on the fly.
    """
    q = x.astype(np.int32)
    zp = np.zeros(scale.shape, np.int32) if zero_point is None else zero_point.astype(np.int32)
    if scale.size == 1:
        # The SFace/YuNet files mark one-element scales with a block_size that covers the whole
        # axis; blocked and per-tensor readings then agree, and onnxruntime only accepts the latter.
        result = (q - zp.reshape(())).astype(scale.dtype) * scale.reshape(())
        return np.asarray(result, dtype=scale.dtype)
    axis = axis % x.ndim
    if block_size <= 0:
        if scale.ndim != 1 or scale.shape[0] != x.shape[axis]:
            raise ValueError(f"per-axis scale {scale.shape} does not fit {x.shape} on axis {axis}")
        shape = [1] * x.ndim
        shape[axis] = -1
        scale_b, zp_b = scale.reshape(shape), zp.reshape(shape)
    else:
        blocks = -(-x.shape[axis] // block_size)
        if scale.ndim != x.ndim or scale.shape[axis] != blocks:
            raise ValueError(
                f"blocked scale {scale.shape} does not fit {x.shape} (axis {axis}, "
                f"block {block_size})"
            )
        n = x.shape[axis]
        scale_b = np.repeat(scale, block_size, axis=axis).take(range(n), axis=axis)
        zp_b = np.repeat(zp, block_size, axis=axis).take(range(n), axis=axis)
    return np.asarray((q - zp_b).astype(scale.dtype) * scale_b, dtype=scale.dtype)


def fold_dequantize(model: Any, *, dynamic_batch: bool = False) -> Any:
    """Return a copy of an `onnx.ModelProto` with constant DequantizeLinear nodes folded to floats.

    Also drops graph inputs no node reads (SFace ships 29: onnxruntime demands a value for each)
    and graph inputs that are really initializers (onnxruntime will not constant-fold or fuse an
    overridable weight). `dynamic_batch` makes dim 0 of the first input and of the outputs
    symbolic so several aligned faces can go through one run.
    """
    import onnx
    from onnx import numpy_helper

    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    graph = folded.graph
    initialisers = {init.name: init for init in graph.initializer}

    kept_nodes = []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(
            name in initialisers for name in node.input if name
        ):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            arrays = [numpy_helper.to_array(initialisers[name]) for name in node.input if name]
            x, scale = arrays[0], arrays[1]
            zero_point = arrays[2] if len(arrays) > 2 else None
            weight = dequantize(
                x,
                scale,
                zero_point,
                axis=int(attrs.get("axis", 1)),
                block_size=int(attrs.get("block_size", 0)),
            )
            tensor = numpy_helper.from_array(weight, name=node.output[0])
            graph.initializer.append(tensor)
            initialisers[tensor.name] = tensor
        else:
            kept_nodes.append(node)
    del graph.node[:]
    graph.node.extend(kept_nodes)

    consumed = {name for node in graph.node for name in node.input}
    consumed |= {out.name for out in graph.output}
    for attr_graph in _subgraphs(graph):
        consumed |= {name for node in attr_graph.node for name in node.input}
    live_inits = [init for init in graph.initializer if init.name in consumed]
    del graph.initializer[:]
    graph.initializer.extend(live_inits)
    init_names = {init.name for init in live_inits}
    live_inputs = [i for i in graph.input if i.name in consumed and i.name not in init_names]
    del graph.input[:]
    graph.input.extend(live_inputs)

    if dynamic_batch:
        for value in [graph.input[0], *graph.output]:
            dims = value.type.tensor_type.shape.dim
            if dims:
                dims[0].ClearField("dim_value")
                dims[0].dim_param = "batch"
        # Stale intermediate shapes would pin batch 1 again.
        del graph.value_info[:]

    onnx.checker.check_model(folded)
    return folded


def _subgraphs(graph: Any) -> Iterable[Any]:
    import onnx

    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield attr.g
                yield from _subgraphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield sub
                    yield from _subgraphs(sub)


def convert_model_bytes(data: bytes, *, dynamic_batch: bool = False) -> bytes:
    import onnx

    model = onnx.load_model_from_string(data)
    converted: bytes = fold_dequantize(model, dynamic_batch=dynamic_batch).SerializeToString(
        deterministic=True
    )
    return converted
