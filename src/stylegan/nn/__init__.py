"""Paper-agnostic building blocks: equalised layers, FIR resampling, modulated convolution."""
