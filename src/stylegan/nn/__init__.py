"""Paper-agnostic building blocks: equalised layers, FIR resampling, modulated convolution, and the float16 blocks
of NVIDIA's mixed precision (`mixed`)."""
