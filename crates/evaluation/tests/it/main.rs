mod its;
mod synth;
