from multiprocessing import Process 

def buy(i): 
    with open('product', 'r') as fr: 
        num = int(fr.read()) 
        
    if num > 0: 
        num -= 1 
        print(f'子进程{i}抢购成功！') 
    else: 
        print(f'子进程{i}抢购失败！') 
        
    with open('product', 'w') as fw: 
        fw.write(str(num)) 
 
if __name__ == '__main__': 
    # 原文假设文件 product 已经存在；这里先写入初始库存 3，脚本才能直接运行
    # Not in the seed, which assumes the file 'product' exists: write the initial stock of 3
    with open('product', 'w') as f: 
        f.write('3') 
    for i in range(10): 
        p = Process(target=buy, args=(i,)) 
        p.start()
