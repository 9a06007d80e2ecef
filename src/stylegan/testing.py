"""Tiny networks for tests, docs and users' own experiments (16x16, a few channels, instant on a CPU)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import torch

from .networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig, stylegan2_config, v1

_Net = TypeVar("_Net", bound=torch.nn.Module)


def tiny_generator_config(**overrides: Any) -> GeneratorConfig:
    kw: dict[str, Any] = dict(z_dim=32, w_dim=32, img_resolution=16, channel_base=512, channel_max=32, mapping_layers=2)
    kw.update(overrides)
    return GeneratorConfig(**kw)


def tiny_discriminator_config(**overrides: Any) -> DiscriminatorConfig:
    kw: dict[str, Any] = dict(img_resolution=16, channel_base=512, channel_max=32, mapping_layers=2)
    kw.update(overrides)
    return DiscriminatorConfig(**kw)


def randomize_(module: _Net, seed: int = 0) -> _Net:
    """Give every parameter and buffer non-trivial random values (biases, noise strengths and w_avg included), so
    that tests comparing two implementations exercise every tensor."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            if name.endswith("resample_filter") or name == "lod" or name.endswith(".lod"):
                continue
            if name.endswith("noise_strength") or name.endswith("noise_weight"):
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.1)
            elif name.endswith("affine.bias"):
                t.copy_(1 + 0.2 * torch.randn(t.shape, generator=g))
            elif t.dtype.is_floating_point:
                t.copy_(torch.randn(t.shape, generator=g) * (0.1 if name.endswith("bias") else 1.0))
    return module


def tiny_generator(seed: int = 0, **overrides: Any) -> Generator:
    """A randomly initialised 16x16 generator in eval mode (random biases, noise strengths and w_avg)."""
    torch.manual_seed(seed)
    return randomize_(Generator(tiny_generator_config(**overrides)), seed).eval()


def without_noise(G: Generator) -> Generator:
    """Zero G's per-layer noise strengths (in place) and return it: its images are then a pure function of ws.

    Randomly initialised tiny networks have noise strengths that dominate their images (a trained network's are
    small); tests of projection and attribution use this so that a perfect projection exists.
    """
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength") or name.endswith("noise_weight"):
                p.zero_()
    return G


def tiny_v1_generator_config(**overrides: Any) -> v1.GeneratorConfig:
    kw: dict[str, Any] = dict(z_dim=32, w_dim=32, img_resolution=16, channel_base=256, channel_max=32, mapping_layers=2)
    kw.update(overrides)
    return v1.GeneratorConfig(**kw)


def tiny_v1_generator(seed: int = 0, **overrides: Any) -> Generator:
    """A randomly initialised 16x16 StyleGAN (v1) generator in eval mode, at full resolution (lod 0)."""
    torch.manual_seed(seed)
    return randomize_(Generator(tiny_v1_generator_config(**overrides)), seed).eval()


def tiny_v1_discriminator(seed: int = 0, **overrides: Any) -> v1.Discriminator:
    """A randomly initialised 16x16 StyleGAN (v1) discriminator in eval mode."""
    kw: dict[str, Any] = dict(img_resolution=16, channel_base=256, channel_max=32)
    kw.update(overrides)
    torch.manual_seed(seed)
    return randomize_(v1.Discriminator(v1.DiscriminatorConfig(**kw)), seed).eval()


def tiny_discriminator(seed: int = 0, **overrides: Any) -> Discriminator:
    torch.manual_seed(seed)
    return randomize_(Discriminator(tiny_discriminator_config(**overrides)), seed).eval()


# ---------------------------------------------------------------------------------------------------------
# Fixture files in every foreign checkpoint layout, written from our own networks. Each writer reproduces the
# byte-level structure of the real files (the same pickle globals, containers and variable names) without
# needing NVIDIA's or rosinality's code: the foreign classes are written as names only, never imported.

FAKE_MODULE_SRC = (
    "# Stand-in for the source code NVIDIA's pickles embed. A safe loader never executes it.\n"
    "raise RuntimeError('this embedded source must never be executed')\n"
)

_NVIDIA_CLASS_NAMES = {"EqualizedLinear": "FullyConnectedLayer", "EqualizedConv2d": "Conv2dLayer"}
_NUMPY_FLOAT_ATTRS = {"act_gain", "weight_gain", "bias_gain"}
_TORCH_HOOK_DICTS = (
    "_backward_pre_hooks",
    "_backward_hooks",
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
    "_state_dict_hooks",
    "_state_dict_pre_hooks",
    "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
)


class _GlobalName:
    """A `module.name` reference written into a pickle stream without importing `module`."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args: Any) -> Any:  # pickle requires reduce functions to be callable
        raise RuntimeError("placeholder for a name in a foreign pickle")


class _EasyDict(dict):
    """Written as `dnnlib.util.EasyDict`, the dict subclass NVIDIA's constructor arguments use."""


class _TFNetwork:
    """Written as `dnnlib.tflib.network.Network` with the state its `__getstate__` produces."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state


def _make_foreign_pickler() -> type:
    import pickle

    # The pure-Python pickler: its internals (save, write, memoize, dispatch) are not in the type stubs.
    pure_pickler: Any = pickle._Pickler

    class ForeignPickler(pure_pickler):
        """The pure-Python pickler with three additions: name placeholders, EasyDicts and TF networks."""

        dispatch = pure_pickler.dispatch.copy()

        def __init__(self, file: Any, protocol: int, module_reducer: Any = None) -> None:
            super().__init__(file, protocol)
            self.module_reducer = module_reducer
            self.names: dict[tuple[str, str], _GlobalName] = {}

        def ref(self, module: str, name: str) -> _GlobalName:
            return self.names.setdefault((module, name), _GlobalName(module, name))

        def save_name(self, obj: _GlobalName) -> None:
            if self.proto >= 4:
                self.save(obj.module)
                self.save(obj.name)
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            self.memoize(obj)

        def save_newobj(self, cls: _GlobalName, obj: Any) -> None:
            self.save(cls)
            self.save(())
            self.write(pickle.NEWOBJ)
            self.memoize(obj)

        def save_easydict(self, obj: _EasyDict) -> None:
            self.save_newobj(self.ref("dnnlib.util", "EasyDict"), obj)
            self._batch_setitems(iter(obj.items()))

        def save_tf_network(self, obj: _TFNetwork) -> None:
            self.save_newobj(self.ref("dnnlib.tflib.network", "Network"), obj)
            self.save(obj.state)
            self.write(pickle.BUILD)

        dispatch[_GlobalName] = save_name
        dispatch[_EasyDict] = save_easydict
        dispatch[_TFNetwork] = save_tf_network

        def reducer_override(self, obj: Any) -> Any:
            import numpy as np

            if isinstance(obj, torch.nn.Module) and self.module_reducer is not None:
                return self.module_reducer(self, obj)
            if isinstance(obj, np.ndarray) and type(obj) is np.ndarray:  # as numpy 1.x wrote them
                state = obj.__reduce__()[2]
                return (
                    self.ref("numpy.core.multiarray", "_reconstruct"),
                    (self.ref("numpy", "ndarray"), (0,), b"b"),
                    state,
                )
            if isinstance(obj, np.generic):
                return self.ref("numpy.core.multiarray", "scalar"), (obj.dtype, obj.tobytes())
            return NotImplemented

    return ForeignPickler


def _plain_attrs(module: torch.nn.Module) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {}
    for name, value in vars(module).items():
        if name.startswith("_") or name == "training":
            continue
        if isinstance(value, float) and name in _NUMPY_FLOAT_ATTRS:
            out[name] = np.float64(value)
        elif value is None or isinstance(value, (bool, int, float, str)):
            out[name] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
            out[name] = list(value)
    return out


def nvidia_init_kwargs(net: Generator | Discriminator, layout: str = "ada") -> dict[str, Any]:
    """The constructor arguments NVIDIA's training scripts would have recorded for an equivalent network.

    layout: "ada" (stylegan2-ada-pytorch: nested `synthesis_kwargs`) or "sg3" (stylegan3 repository,
    `networks_stylegan2.py`: synthesis arguments flattened).
    """
    if isinstance(net, Generator):
        cfg = stylegan2_config(net, "an NVIDIA PyTorch pickle")
        num_fp16_res = cfg.num_fp16_res
        mapping = _EasyDict(num_layers=cfg.mapping_layers)
        if cfg.mapping_lr_multiplier != 0.01:
            mapping["lr_multiplier"] = cfg.mapping_lr_multiplier
        if cfg.mapping_embed_features is not None:
            mapping["embed_features"] = cfg.mapping_embed_features
        if cfg.mapping_layer_features is not None:
            mapping["layer_features"] = cfg.mapping_layer_features
        if cfg.w_avg_beta != 0.995:
            mapping["w_avg_beta"] = cfg.w_avg_beta
        synthesis = _EasyDict(
            channel_base=cfg.channel_base,
            channel_max=cfg.channel_max,
            num_fp16_res=num_fp16_res,
            conv_clamp=cfg.conv_clamp,
        )
        if cfg.architecture != "skip":
            synthesis["architecture"] = cfg.architecture
        if tuple(cfg.resample_filter) != (1, 3, 3, 1):
            synthesis["resample_filter"] = list(cfg.resample_filter)
        if not cfg.use_noise:
            synthesis["use_noise"] = False
        if layout == "ada":
            return dict(
                z_dim=cfg.z_dim,
                w_dim=cfg.w_dim,
                mapping_kwargs=mapping,
                synthesis_kwargs=synthesis,
                c_dim=cfg.c_dim,
                img_resolution=cfg.img_resolution,
                img_channels=cfg.img_channels,
            )
        # The stylegan3 repository's train.py leaves the mixed-precision defaults (4 fp16 blocks, clamp 256) implicit.
        if num_fp16_res == 4 and cfg.conv_clamp == 256:
            del synthesis["num_fp16_res"], synthesis["conv_clamp"]
        return dict(
            z_dim=cfg.z_dim,
            w_dim=cfg.w_dim,
            mapping_kwargs=mapping,
            **synthesis,
            fused_modconv_default="inference_only",
            c_dim=cfg.c_dim,
            img_resolution=cfg.img_resolution,
            img_channels=cfg.img_channels,
        )
    dcfg = net.cfg
    num_fp16_res = dcfg.num_fp16_res
    block = _EasyDict()
    if dcfg.freeze_layers:
        block["freeze_layers"] = dcfg.freeze_layers
    mapping = _EasyDict(num_layers=dcfg.mapping_layers)
    if dcfg.mapping_lr_multiplier != 0.01:
        mapping["lr_multiplier"] = dcfg.mapping_lr_multiplier
    epilogue = _EasyDict(mbstd_group_size=dcfg.mbstd_group_size)
    if dcfg.mbstd_num_channels != 1:
        epilogue["mbstd_num_channels"] = dcfg.mbstd_num_channels
    kwargs: dict[str, Any] = dict(
        block_kwargs=block,
        mapping_kwargs=mapping,
        epilogue_kwargs=epilogue,
        channel_base=dcfg.channel_base,
        channel_max=dcfg.channel_max,
        num_fp16_res=num_fp16_res,
        conv_clamp=dcfg.conv_clamp,
        architecture=dcfg.architecture,
        c_dim=dcfg.c_dim,
        img_resolution=dcfg.img_resolution,
        img_channels=dcfg.img_channels,
    )
    if dcfg.cmap_dim is not None:
        kwargs["cmap_dim"] = dcfg.cmap_dim
    if layout == "sg3" and num_fp16_res == 4 and dcfg.conv_clamp == 256:
        del kwargs["num_fp16_res"], kwargs["conv_clamp"]
    return kwargs


def write_nvidia_pickle(
    path: str | Path,
    *,
    G_ema: Generator,
    G: Generator | None = None,
    D: Discriminator | None = None,
    layout: str = "ada",
    protocol: int = 4,
    training_set_kwargs: dict[str, Any] | None = None,
    module_src: str = FAKE_MODULE_SRC,
    augment_pipe: bool = False,
    record_attributes: bool = True,
    extra_init_kwargs: dict[str, Any] | None = None,
) -> Path:
    """Write networks as an NVIDIA network pickle (`network-snapshot-*.pkl`) of the given layout.

    The stream references exactly the globals NVIDIA's files reference: `torch_utils.persistence.
    _reconstruct_persistent_obj` with meta `{'type': 'class', 'version': 6, 'module_src', 'class_name', 'state'}`
    for every module, `dnnlib.util.EasyDict` for nested constructor arguments, `collections.OrderedDict`,
    torch's tensor rebuild functions (`torch.storage._load_from_bytes` for storages) and numpy scalars.
    `record_attributes=False` leaves out the modules' plain attributes (conv_clamp, ...), so that a loader must
    rely on the constructor arguments and the repository's defaults alone. `extra_init_kwargs` are merged into
    the generators' recorded constructor arguments (to build files with unusual or wrong settings).
    """
    from collections import OrderedDict

    def module_reducer(pickler: Any, module: torch.nn.Module) -> Any:
        cls = type(module).__name__
        state: dict[str, Any] = {
            "training": False,
            "_parameters": OrderedDict(module._parameters),
            "_buffers": OrderedDict(module._buffers),
            "_non_persistent_buffers_set": set(),
        }
        for hooks in _TORCH_HOOK_DICTS:
            state[hooks] = OrderedDict()
        state["_is_full_backward_hook"] = None
        state["_modules"] = OrderedDict(module._modules)
        if record_attributes:
            state.update(_plain_attrs(module))
        is_top = isinstance(module, (Generator, Discriminator))
        state["_init_args"] = ()
        state["_init_kwargs"] = nvidia_init_kwargs(module, layout) if is_top else {}  # type: ignore[arg-type]
        if isinstance(module, Generator) and extra_init_kwargs:
            state["_init_kwargs"].update(extra_init_kwargs)
        meta = dict(
            type="class", version=6, module_src=module_src, class_name=_NVIDIA_CLASS_NAMES.get(cls, cls), state=state
        )
        return pickler.ref("torch_utils.persistence", "_reconstruct_persistent_obj"), (meta,)

    data: dict[str, Any] = {
        "G": G if G is not None else G_ema,
        "D": D,
        "G_ema": G_ema,
        "augment_pipe": None,
        "training_set_kwargs": training_set_kwargs
        if training_set_kwargs is not None
        else dict(
            class_name="training.dataset.ImageFolderDataset",
            path="~/datasets/tiny.zip",
            use_labels=False,
            max_size=8,
            xflip=False,
            resolution=G_ema.img_resolution,
        ),
    }
    if D is None:
        del data["D"]
    if augment_pipe:
        pipe = torch.nn.Module()
        pipe.register_buffer("p", torch.zeros([]))
        data["augment_pipe"] = pipe
    path = Path(path)
    with open(path, "wb") as f:
        _make_foreign_pickler()(f, protocol, module_reducer).dump(data)
    return path


def _tf_dense(w: torch.Tensor) -> Any:
    return w.detach().float().t().contiguous().numpy()


def _tf_conv(w: torch.Tensor, *, flip: bool = False) -> Any:
    import numpy as np

    hwio = w.detach().float().permute(2, 3, 1, 0).numpy()  # [O, I, kh, kw] -> [kh, kw, I, O]
    return np.ascontiguousarray(hwio[::-1, ::-1] if flip else hwio)


def tf_generator_variables(G: Generator) -> dict[str, list[tuple[str, Any]]]:
    """Our generator as TF StyleGAN2 variables, per network: {'G': [...], 'mapping': [...], 'synthesis': [...]}.

    This is the inverse of the conversion in StyleGAN2-ADA's legacy.py, written independently of the loader.
    """
    import numpy as np

    sd = {k: v.detach().float() for k, v in G.state_dict().items()}
    cfg = stylegan2_config(G, "a TF StyleGAN2 pickle")
    f32 = np.float32
    top = [("lod", f32(0.0)), ("dlatent_avg", sd["mapping.w_avg"].numpy())]
    mapping: list[tuple[str, Any]] = []
    if cfg.c_dim:
        mapping += [
            ("LabelEmbed/weight", _tf_dense(sd["mapping.embed.weight"])),
            ("LabelEmbed/bias", sd["mapping.embed.bias"].numpy()),
        ]
    for i in range(cfg.mapping_layers):
        mapping += [
            (f"Dense{i}/weight", _tf_dense(sd[f"mapping.fc{i}.weight"])),
            (f"Dense{i}/bias", sd[f"mapping.fc{i}.bias"].numpy()),
        ]
    synthesis: list[tuple[str, Any]] = []
    noises: dict[int, Any] = {}

    def layer(scope: str, ours: str, noise_index: int, flip: bool) -> None:
        synthesis.extend(
            [
                (f"{scope}/weight", _tf_conv(sd[f"{ours}.weight"], flip=flip)),
                (f"{scope}/mod_weight", _tf_dense(sd[f"{ours}.affine.weight"])),
                (f"{scope}/mod_bias", (sd[f"{ours}.affine.bias"] - 1).numpy()),
            ]
        )
        if cfg.use_noise:
            synthesis.append((f"{scope}/noise_strength", f32(sd[f"{ours}.noise_strength"].item())))
            noises[noise_index] = sd[f"{ours}.noise_const"][None, None].numpy()
        synthesis.append((f"{scope}/bias", sd[f"{ours}.bias"].numpy()))

    def torgb(scope: str, ours: str) -> None:
        synthesis.extend(
            [
                (f"{scope}/weight", _tf_conv(sd[f"{ours}.weight"])),
                (f"{scope}/mod_weight", _tf_dense(sd[f"{ours}.affine.weight"])),
                (f"{scope}/mod_bias", (sd[f"{ours}.affine.bias"] - 1).numpy()),
                (f"{scope}/bias", sd[f"{ours}.bias"].numpy()),
            ]
        )

    synthesis.append(("4x4/Const/const", sd["synthesis.b4.const"][None].numpy()))
    layer("4x4/Conv", "synthesis.b4.conv1", 0, flip=False)
    if cfg.architecture == "skip" or cfg.img_resolution == 4:
        torgb("4x4/ToRGB", "synthesis.b4.torgb")
    for res in G.synthesis.block_resolutions[1:]:
        log2 = res.bit_length() - 1
        layer(f"{res}x{res}/Conv0_up", f"synthesis.b{res}.conv0", 2 * log2 - 5, flip=True)
        layer(f"{res}x{res}/Conv1", f"synthesis.b{res}.conv1", 2 * log2 - 4, flip=False)
        if cfg.architecture == "resnet":
            synthesis.append((f"{res}x{res}/Skip/weight", _tf_conv(sd[f"synthesis.b{res}.skip.weight"], flip=True)))
        if cfg.architecture == "skip" or res == cfg.img_resolution:
            torgb(f"{res}x{res}/ToRGB", f"synthesis.b{res}.torgb")
    synthesis = [(f"noise{i}", noises[i]) for i in sorted(noises)] + synthesis
    return {"G": top, "mapping": mapping, "synthesis": synthesis}


def tf_discriminator_variables(D: Discriminator) -> list[tuple[str, Any]]:
    """Our discriminator as TF StyleGAN2 (`D_stylegan2`) variables."""
    sd = {k: v.detach().float() for k, v in D.state_dict().items()}
    cfg = D.cfg
    out: list[tuple[str, Any]] = []

    def conv(scope: str, ours: str, bias: bool = True) -> None:
        out.append((f"{scope}/weight", _tf_conv(sd[f"{ours}.weight"])))
        if bias:
            out.append((f"{scope}/bias", sd[f"{ours}.bias"].numpy()))

    for res in D.block_resolutions:
        if res == cfg.img_resolution or cfg.architecture == "skip":
            conv(f"{res}x{res}/FromRGB", f"b{res}.fromrgb")
        conv(f"{res}x{res}/Conv0", f"b{res}.conv0")
        conv(f"{res}x{res}/Conv1_down", f"b{res}.conv1")
        if cfg.architecture == "resnet":
            conv(f"{res}x{res}/Skip", f"b{res}.skip", bias=False)
    if cfg.c_dim:
        out += [
            ("LabelEmbed/weight", _tf_dense(sd["mapping.embed.weight"])),
            ("LabelEmbed/bias", sd["mapping.embed.bias"].numpy()),
        ]
        for i in range(cfg.mapping_layers):
            out += [
                (f"Mapping{i}/weight", _tf_dense(sd[f"mapping.fc{i}.weight"])),
                (f"Mapping{i}/bias", sd[f"mapping.fc{i}.bias"].numpy()),
            ]
    if cfg.architecture == "skip":
        conv("4x4/FromRGB", "b4.fromrgb")
    conv("4x4/Conv", "b4.conv")
    out += [
        ("4x4/Dense0/weight", _tf_dense(sd["b4.fc.weight"])),
        ("4x4/Dense0/bias", sd["b4.fc.bias"].numpy()),
        ("Output/weight", _tf_dense(sd["b4.out.weight"])),
        ("Output/bias", sd["b4.out.bias"].numpy()),
    ]
    return out


def tf_static_kwargs(net: Generator | Discriminator) -> dict[str, Any]:
    """The TF constructor arguments (`static_kwargs`) of an equivalent TF StyleGAN2 network (`num_fp16_res` is
    recorded when not 0, as the StyleGAN2-ADA TensorFlow code does)."""
    if isinstance(net, Generator):
        cfg = stylegan2_config(net, "a TF StyleGAN2 pickle")
        kw: dict[str, Any] = dict(
            num_channels=cfg.img_channels,
            resolution=cfg.img_resolution,
            label_size=cfg.c_dim,
            latent_size=cfg.z_dim,
            dlatent_size=cfg.w_dim,
            mapping_layers=cfg.mapping_layers,
            fmap_base=cfg.channel_base // 2,
            fmap_max=cfg.channel_max,
            architecture=cfg.architecture,
            truncation_psi=0.5,
        )
        if cfg.mapping_layer_features is not None:
            kw["mapping_fmaps"] = cfg.mapping_layer_features
        if cfg.mapping_embed_features is not None:
            kw["label_fmaps"] = cfg.mapping_embed_features
        if cfg.mapping_lr_multiplier != 0.01:
            kw["mapping_lrmul"] = cfg.mapping_lr_multiplier
        if cfg.conv_clamp is not None:
            kw["conv_clamp"] = cfg.conv_clamp
        if cfg.num_fp16_res:
            kw["num_fp16_res"] = cfg.num_fp16_res
        if not cfg.use_noise:
            kw["use_noise"] = False
        return kw
    dcfg = net.cfg
    kw = dict(
        num_channels=dcfg.img_channels,
        resolution=dcfg.img_resolution,
        label_size=dcfg.c_dim,
        fmap_base=dcfg.channel_base // 2,
        fmap_max=dcfg.channel_max,
        architecture=dcfg.architecture,
        mbstd_group_size=dcfg.mbstd_group_size,
        mbstd_num_features=dcfg.mbstd_num_channels,
        mapping_layers=dcfg.mapping_layers,
        mapping_lrmul=dcfg.mapping_lr_multiplier,
    )
    if dcfg.cmap_dim is not None:
        kw["mapping_fmaps"] = dcfg.cmap_dim
    if dcfg.conv_clamp is not None:
        kw["conv_clamp"] = dcfg.conv_clamp
    if dcfg.num_fp16_res:
        kw["num_fp16_res"] = dcfg.num_fp16_res
    return kw


def write_tf_pickle(
    path: str | Path,
    *,
    Gs: Generator,
    G: Generator | None = None,
    D: Discriminator | None = None,
    build_module_src: str = FAKE_MODULE_SRC,
) -> Path:
    """Write networks as an original TF StyleGAN2 pickle: `(G, D, Gs)` of `dnnlib.tflib.network.Network`.

    Each network's state is what TF's `Network.__getstate__` writes (version 4, name, static_kwargs,
    components, build_module_src, build_func_name, variables as numpy arrays), with TF's variable names and
    layouts (HWIO convolutions, [in, out] dense weights, flipped up-sampling kernels, mod_bias - 1).
    `D` defaults to a tiny discriminator of the same resolution. A network's `num_fp16_res` is recorded in its
    arguments when not 0.
    """
    G = G if G is not None else Gs
    if D is None:
        D = tiny_discriminator(img_resolution=Gs.img_resolution, c_dim=Gs.c_dim, img_channels=Gs.img_channels)

    def state(
        name: str,
        func: str,
        kwargs: dict[str, Any],
        variables: list[tuple[str, Any]],
        components: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return dict(
            version=4,
            name=name,
            static_kwargs=kwargs,
            components=components or {},
            build_module_src=build_module_src,
            build_func_name=func,
            variables=variables,
        )

    def generator(net: Generator, name: str) -> _TFNetwork:
        kwargs = tf_static_kwargs(net)
        tf_vars = tf_generator_variables(net)
        mapping = _TFNetwork(
            state("G_mapping", "G_mapping", dict(kwargs, dlatent_broadcast=net.num_ws), tf_vars["mapping"])
        )
        synthesis = _TFNetwork(state("G_synthesis", "G_synthesis_stylegan2", dict(kwargs), tf_vars["synthesis"]))
        return _TFNetwork(state(name, "G_main", kwargs, tf_vars["G"], {"mapping": mapping, "synthesis": synthesis}))

    disc = _TFNetwork(state("D", "D_stylegan2", tf_static_kwargs(D), tf_discriminator_variables(D)))
    nets = (generator(G, "G"), disc, generator(Gs, "Gs"))
    path = Path(path)
    with open(path, "wb") as f:
        _make_foreign_pickler()(f, 4).dump(nets)
    return path


def write_rosinality_checkpoint(
    path: str | Path,
    *,
    G_ema: Generator,
    G: Generator | None = None,
    D: Discriminator | None = None,
    kind: str = "converted",
    zip_format: bool = True,
) -> Path:
    """Write networks as a rosinality stylegan2-pytorch checkpoint.

    kind: "converted" (`{'g_ema', 'latent_avg'[, 'g', 'd']}`, as convert_weight.py writes) or "training"
    (`{'g', 'd', 'g_ema', 'g_optim', 'd_optim', 'args': argparse.Namespace, 'ada_aug_p'}`, as train.py writes;
    no latent_avg). `zip_format=False` writes torch's legacy (pre-1.6) serialization.
    """
    import argparse

    from .io.formats.rosinality import channel_multiplier, to_rosinality

    sds = to_rosinality(G_ema, G, D, strict=False)
    if kind == "converted":
        obj: dict[str, Any] = sds
    elif kind == "training":
        G = G if G is not None else G_ema
        D = D if D is not None else tiny_discriminator(img_resolution=G_ema.img_resolution)
        train = to_rosinality(G_ema, G, D, strict=False)
        adam = dict(lr=0.002, betas=(0.0, 0.99), eps=1e-8, weight_decay=0, amsgrad=False)
        args = argparse.Namespace(
            path="lmdb",
            arch="stylegan2",
            iter=800000,
            batch=16,
            n_sample=64,
            size=G_ema.img_resolution,
            r1=10,
            path_regularize=2,
            path_batch_shrink=2,
            d_reg_every=16,
            g_reg_every=4,
            mixing=0.9,
            ckpt=None,
            lr=0.002,
            channel_multiplier=channel_multiplier(stylegan2_config(G_ema, "a rosinality checkpoint")) or 2,
            wandb=False,
            local_rank=0,
            augment=False,
            augment_p=0,
            ada_target=0.6,
            ada_length=500000,
            ada_every=256,
            latent=G_ema.w_dim,
            n_mlp=G_ema.cfg.mapping_layers,
            start_iter=0,
            distributed=False,
        )
        obj = {
            "g": train["g"],
            "d": train["d"],
            "g_ema": train["g_ema"],
            "g_optim": {"state": {}, "param_groups": [dict(adam, params=list(range(len(train["g"]))))]},
            "d_optim": {"state": {}, "param_groups": [dict(adam, params=list(range(len(train["d"]))))]},
            "args": args,
            "ada_aug_p": 0.0,
        }
    else:
        raise ValueError(f"kind must be 'converted' or 'training', got {kind!r}")
    path = Path(path)
    torch.save(obj, path, _use_new_zipfile_serialization=zip_format)
    return path


def astronaut_pan_video(path: str | Path, *, frames: int = 40, size: int = 384, fps: float = 25.0) -> Path:
    """A real face on video: a size x size window panning left to right over scikit-image's astronaut photo
    (public domain, 512 x 512, shipped inside scikit-image), written as .mp4 (H.264) or .gif."""
    import numpy as np
    from skimage import data

    from .video import write_video

    photo = data.astronaut()
    if not 16 <= size <= photo.shape[0]:
        raise ValueError(f"size must be in [16, {photo.shape[0]}], got {size}")
    offsets = np.linspace(0, photo.shape[1] - size, frames).round().astype(int)
    return write_video(path, (photo[:size, x : x + size] for x in offsets), fps=fps, progress=False)
