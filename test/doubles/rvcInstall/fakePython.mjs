// TEST DOUBLE of an RVC WebUI install's Python (see README.md). Plain Node, no dependencies.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const args = process.argv.slice(2);
const cwd = process.cwd();
const knobs = (() => {
  try {
    return JSON.parse(fs.readFileSync(path.join(cwd, 'double.json'), 'utf8'));
  } catch {
    return {};
  }
})();

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function usage(script, why) {
  process.stderr.write(`usage error in ${script} (test double): ${why}\nargv: ${JSON.stringify(args)}\n`);
  process.exit(2);
}

function npy(file, descr, shape, bytesPerItem) {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = Buffer.alloc(count * bytesPerItem);
  for (let i = 0; i < count; i++) {
    if (descr === '<f4') data.writeFloatLE(Math.sin(i) * 0.1, i * 4);
    else data.writeBigInt64LE(BigInt(1 + (i % 200)), i * 8);
  }
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

function wav(file, sampleRate) {
  const samples = 64;
  const b = Buffer.alloc(44 + samples * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(samples * 2, 40);
  fs.writeFileSync(file, b);
}

function logger(file) {
  return (line) => {
    process.stdout.write(line + '\n');
    fs.appendFileSync(file, line + '\n');
  };
}

function preprocess(rest) {
  const script = 'preprocess.py';
  if (rest.length !== 6) usage(script, `expected 6 arguments, got ${rest.length}`);
  const [inp, sr, np, exp, noparallel, per] = rest;
  if (!['32000', '40000', '48000'].includes(sr)) usage(script, `sr ${sr}`);
  if (!/^\d+$/.test(np) || !['True', 'False'].includes(noparallel) || !/^\d\.\d$/.test(per)) usage(script, 'n_p/noparallel/per');
  if (!path.isAbsolute(exp)) usage(script, 'exp_dir must be absolute');
  console.log([inp, sr, np, exp, noparallel, per].join(' '));
  fs.mkdirSync(path.join(exp, '0_gt_wavs'), { recursive: true });
  fs.mkdirSync(path.join(exp, '1_16k_wavs'), { recursive: true });
  const println = logger(path.join(exp, 'preprocess.log'));
  println('start preprocess');
  const names = fs.readdirSync(inp).sort();
  names.forEach((name, idx) => {
    const full = path.join(inp, name);
    try {
      const content = fs.readFileSync(full);
      if (content.subarray(0, 6).toString() === 'BROKEN')
        throw new Error('RuntimeError: Failed to load audio: ffmpeg error (see stderr output for detail)');
      for (const part of [0, 1]) {
        wav(path.join(exp, '0_gt_wavs', `${idx}_${part}.wav`), Number(sr));
        wav(path.join(exp, '1_16k_wavs', `${idx}_${part}.wav`), 16000);
      }
      println(`${full}\t-> Success`);
    } catch (error) {
      const last = error.code === 'EISDIR' ? `IsADirectoryError: [Errno 21] Is a directory: '${full}'` : error.message;
      println(
        `${full}\t-> Traceback (most recent call last):\n  File "infer/modules/train/preprocess.py", line 87, in pipeline\n    audio = load_audio(path, self.sr)\n${last}\n`,
      );
    }
  });
  println('end preprocess');
}

function wavsOf(exp) {
  return fs
    .readdirSync(path.join(exp, '1_16k_wavs'))
    .filter((n) => n.endsWith('.wav'))
    .sort();
}

function extractF0(paths, exp, printt) {
  fs.mkdirSync(path.join(exp, '2a_f0'), { recursive: true });
  fs.mkdirSync(path.join(exp, '2b-f0nsf'), { recursive: true });
  const todo = paths.filter(
    (p) => !(fs.existsSync(path.join(exp, '2a_f0', `${p}.npy`)) && fs.existsSync(path.join(exp, '2b-f0nsf', `${p}.npy`))),
  );
  if (todo.length === 0) return printt('no-f0-todo');
  printt(`todo-f0-${todo.length}`);
  const every = Math.max(Math.floor(todo.length / 5), 1);
  todo.forEach((name, idx) => {
    if (idx % every === 0) printt(`f0ing,now-${idx},all-${todo.length},-${path.join(exp, '1_16k_wavs', name)}`);
    npy(path.join(exp, '2a_f0', `${name}.npy`), '<i8', [8], 8);
    npy(path.join(exp, '2b-f0nsf', `${name}.npy`), '<f4', [8], 4);
  });
}

function extractF0Print(rest) {
  if (rest.length !== 3) usage('extract_f0_print.py', `expected 3 arguments, got ${rest.length}`);
  const [exp, np, method] = rest;
  if (!['pm', 'harvest', 'dio', 'rmvpe'].includes(method)) usage('extract_f0_print.py', `f0 method ${method}`);
  const printt = logger(path.join(exp, 'extract_f0_feature.log'));
  printt(['infer/modules/train/extract/extract_f0_print.py', ...rest].join(' '));
  const paths = wavsOf(exp);
  const n = Number(np);
  for (let i = 0; i < n; i++) {
    const part = paths.filter((_, j) => j % n === i);
    if (part.length) extractF0(part, exp, printt);
  }
}

function extractF0Rmvpe(rest) {
  if (rest.length !== 5) usage('extract_f0_rmvpe.py', `expected 5 arguments, got ${rest.length}`);
  const [nPart, iPart, , exp, isHalf] = rest;
  if (!['True', 'False'].includes(isHalf)) usage('extract_f0_rmvpe.py', 'is_half');
  const printt = logger(path.join(exp, 'extract_f0_feature.log'));
  printt(['infer/modules/train/extract/extract_f0_rmvpe.py', ...rest].join(' '));
  extractF0(
    wavsOf(exp).filter((_, j) => j % Number(nPart) === Number(iPart)),
    exp,
    printt,
  );
}

function extractFeature(rest) {
  if (rest.length !== 6 && rest.length !== 7) usage('extract_feature_print.py', `expected 6 or 7 arguments, got ${rest.length}`);
  const [device, nPart, iPart] = rest;
  const [exp, version, isHalf] = rest.slice(-3);
  if (!/^(cpu|mps|cuda:\d+|privateuseone:\d+)$/.test(device) || !['v1', 'v2'].includes(version) || !['True', 'False'].includes(isHalf))
    usage('extract_feature_print.py', 'device/version/is_half');
  const printt = logger(path.join(exp, 'extract_f0_feature.log'));
  printt(['infer/modules/train/extract_feature_print.py', ...rest].join(' '));
  printt(`exp_dir: ${exp}`);
  if (!fs.existsSync('assets/hubert/hubert_base.pt')) {
    printt(
      'Error: Extracting is shut down because assets/hubert/hubert_base.pt does not exist, you may download it from https://huggingface.co/lj1995/VoiceConversionWebUI/tree/main',
    );
    process.exit(0);
  }
  printt('load model(s) from assets/hubert/hubert_base.pt');
  const dim = version === 'v1' ? 256 : 768;
  const out = path.join(exp, `3_feature${dim}`);
  fs.mkdirSync(out, { recursive: true });
  const todo = wavsOf(exp)
    .filter((_, j) => j % Number(nPart) === Number(iPart))
    .filter((n) => !fs.existsSync(path.join(out, n.replace('.wav', '.npy'))));
  if (todo.length === 0) return printt('no-feature-todo');
  printt(`all-feature-${todo.length}`);
  todo.forEach((name, idx) => {
    npy(path.join(out, name.replace('.wav', '.npy')), '<f4', [4, dim], 4);
    printt(`now-${todo.length},all-${idx},${name},(4, ${dim})`);
  });
  printt('all-feature-done');
}

function parseTrainFlags(rest) {
  const flags = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith('-') || rest[i + 1] === undefined) usage('train.py', `bad flag at ${rest[i]}`);
    flags[rest[i]] = rest[i + 1];
  }
  for (const required of ['-e', '-sr', '-f0', '-bs', '-te', '-se', '-l', '-c', '-sw', '-v'])
    if (!(required in flags)) usage('train.py', `missing ${required}`);
  for (const flag of Object.keys(flags))
    if (!['-e', '-sr', '-f0', '-bs', '-g', '-te', '-se', '-pg', '-pd', '-l', '-c', '-sw', '-v'].includes(flag))
      usage('train.py', `unknown flag ${flag}`);
  return flags;
}

function trainParent(rest) {
  const flags = parseTrainFlags(rest);
  const expDir = path.join('logs', flags['-e']);
  if (!fs.existsSync(path.join(expDir, 'config.json')) || !fs.existsSync(path.join(expDir, 'filelist.txt')))
    usage('train.py', `${expDir}/config.json or filelist.txt missing`);
  // RVC's main() starts one mp.Process per GPU and only join()s it: the parent exits 0 whatever happened.
  const child = spawn(process.execPath, [process.argv[1], '--train-child', ...rest], { stdio: 'inherit' });
  fs.appendFileSync(path.join(expDir, 'double-train-pids.txt'), `${process.pid}\n${child.pid}\n`);
  child.on('exit', () => process.exit(0));
}

function trainChild(rest) {
  const flags = parseTrainFlags(rest);
  const name = flags['-e'];
  const expDir = path.join('logs', name);
  const config = JSON.parse(fs.readFileSync(path.join(expDir, 'config.json'), 'utf8'));
  const filelist = fs.readFileSync(path.join(expDir, 'filelist.txt'), 'utf8').split('\n');
  if (filelist.length < 3) usage('train.py', 'filelist too short');
  const trainLog = path.join(expDir, 'train.log');
  const log = (message, logger = name) => {
    process.stderr.write(`INFO:${logger}:${message}\n`);
    const now = new Date();
    const stamp = now.toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
    fs.appendFileSync(trainLog, `${stamp}\t${logger}\tINFO\t${message}\n`);
  };
  log(`{'train': ${JSON.stringify(config.train)}, 'name': '${name}', 'total_epoch': ${flags['-te']}}`);
  const stepsPerEpoch = 5;
  const interval = knobs.logInterval ?? config.train?.log_interval ?? 200;
  let epochStr = 1;
  const checkpoints = fs.readdirSync(expDir).filter((f) => /^G_\d+\.pth$/.test(f));
  if (checkpoints.length) {
    const latest = checkpoints.sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')))[checkpoints.length - 1];
    try {
      epochStr = JSON.parse(fs.readFileSync(path.join(expDir, latest), 'utf8')).iteration;
      log(`loaded ${latest} (resumed at epoch ${epochStr})`);
    } catch {
      // RVC's train.py catches any failure to load the latest checkpoint and starts again at epoch 1.
      log(`could not load ${latest}; starting at epoch 1`);
    }
  }
  if (epochStr === 1 && flags['-pg']) log(`loaded pretrained ${flags['-pg']}`);
  let globalStep = (epochStr - 1) * stepsPerEpoch;
  const total = Number(flags['-te']);
  const oomEpoch = Number(flags['-bs']) >= 64 ? Math.min(3, total) : Infinity;
  fs.mkdirSync('assets/weights', { recursive: true });
  for (let epoch = epochStr; epoch <= 20000; epoch++) {
    for (let batch = 0; batch < stepsPerEpoch; batch++) {
      if (epoch === oomEpoch && batch === 2) {
        process.stderr.write(
          'Process Process-1:\nTraceback (most recent call last):\n  File "/usr/lib/python3.10/multiprocessing/process.py", line 314, in _bootstrap\n    self.run()\n' +
            '  File "infer/modules/train/train.py", line 489, in train_and_evaluate\n    scaler.scale(loss_gen_all).backward()\n' +
            'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of 23.65 GiB of which 1.12 GiB is free.\n',
        );
        process.exit(1);
      }
      if (globalStep % interval === 0) {
        log(`Train Epoch: ${epoch} [${Math.round((100 * batch) / stepsPerEpoch)}%]`);
        log(`[${globalStep}, 0.0001]`);
        log('loss_disc=9.472, loss_gen=9.444, loss_fm=1.726,loss_mel=75.000, loss_kl=9.000');
      }
      globalStep++;
    }
    sleep(knobs.epochMs ?? 20);
    if (epoch % Number(flags['-se']) === 0) {
      const tag = flags['-l'] === '1' ? 2333333 : globalStep;
      for (const kind of ['G', 'D']) {
        // Written whole or not at all: a job killed mid-save (the node-down tests) must still leave a loadable
        // latest checkpoint, or the resume those tests check would depend on where the kill landed.
        const checkpoint = path.join(expDir, `${kind}_${tag}.pth`);
        fs.writeFileSync(`${checkpoint}.part`, JSON.stringify({ iteration: epoch }));
        fs.renameSync(`${checkpoint}.part`, checkpoint);
        log(`Saving model and optimizer state at epoch ${epoch} to ./logs/${name}/${kind}_${tag}.pth`, 'root');
      }
      if (flags['-sw'] === '1') fs.writeFileSync(`assets/weights/${name}_e${epoch}_s${globalStep}.pth`, 'small model (test double)');
      log(`saving ckpt ${name}_e${epoch}:Success.`);
    }
    log(`====> Epoch: ${epoch} [2026-11-23 05:53:30] | (0:00:00.020000)`);
    if (epoch >= total) {
      log('Training is done. The program is closed.');
      fs.writeFileSync(`assets/weights/${name}.pth`, 'final small model (test double)');
      log('saving final ckpt:Success.');
      process.exit(2333333 & 0xff);
    }
  }
}

function trainIndex(rest) {
  // Stands in for RVC Studio's own python/train_index.py, whose real run needs numpy and faiss.
  if (rest.length !== 5) usage('train_index.py', `expected 5 arguments, got ${rest.length}`);
  const [exp, name, version, outside] = rest;
  const dim = version === 'v1' ? 256 : 768;
  const files = fs.readdirSync(path.join(exp, `3_feature${dim}`)).filter((f) => f.endsWith('.npy'));
  if (files.length === 0) {
    process.stderr.write('Traceback (most recent call last):\nValueError: need at least one array to concatenate\n');
    process.exit(1);
  }
  const rows = files.length * 4;
  const nIvf = Math.max(1, Math.min(Math.floor(16 * Math.sqrt(rows)), Math.floor(rows / 39)));
  console.log(`(${rows}, ${dim}),${nIvf}`);
  npy(path.join(exp, 'total_fea.npy'), '<f4', [rows, dim], 4);
  console.log('training');
  const base = `IVF${nIvf}_Flat_nprobe_1_${name}_${version}.index`;
  fs.writeFileSync(path.join(exp, `trained_${base}`), 'faiss index (test double)');
  console.log('adding');
  fs.writeFileSync(path.join(exp, `added_${base}`), 'faiss index (test double)');
  console.log(`成功构建索引 added_${base}`);
  fs.mkdirSync(outside, { recursive: true });
  const link = path.join(outside, `${name}_${base}`);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.join(exp, `added_${base}`), link);
  console.log(`链接索引到外部-${outside}`);
}

function probe() {
  const result = {
    python: '3.10.14',
    torch: knobs.noTorch ? null : '2.1.2+double',
    cuda: Boolean(knobs.cuda),
    mps: false,
    gpus: knobs.gpus ?? [],
  };
  if (knobs.noTorch) result.error = "ModuleNotFoundError: No module named 'torch'";
  console.log(JSON.stringify(result));
}

const [script, ...rest] = args;
if (script === '--version') console.log('Python 3.10.14 (RVC install test double)');
else if (script === '--train-child') trainChild(rest);
else if (!script) usage('python', 'no script');
else {
  const s = script.replaceAll('\\', '/');
  if (s.endsWith('probe_device.py')) probe();
  else if (s === 'infer/modules/train/preprocess.py') preprocess(rest);
  else if (s === 'infer/modules/train/extract/extract_f0_print.py') extractF0Print(rest);
  else if (s === 'infer/modules/train/extract/extract_f0_rmvpe.py') extractF0Rmvpe(rest);
  else if (s === 'infer/modules/train/extract_feature_print.py') extractFeature(rest);
  else if (s === 'infer/modules/train/train.py') trainParent(rest);
  else if (s.endsWith('/train_index.py')) trainIndex(rest);
  else {
    process.stderr.write(`python: can't open file '${script}': [Errno 2] No such file or directory\n`);
    process.exit(2);
  }
}
