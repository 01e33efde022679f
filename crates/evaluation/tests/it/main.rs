mod did;
mod its;
mod synth;
